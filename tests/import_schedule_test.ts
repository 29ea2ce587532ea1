/**
 * `new --from` translates Keras' `LearningRateScheduler(f)` into the spec's per-epoch table by
 * running `f` as Python would (Python's numbers: harness/import/python_number.ts), and leaves
 * whatever it does not run as a TODO naming the line. The expected tables were computed with
 * CPython 3 and numpy (the learning rate in force as a float32, as Keras' variable holds it).
 */
import assert from "assert";
import { type ImportedReplication, importSnippet } from "../harness/import/import_snippet.ts";
import { type PyNumber, pythonArithmetic, pythonRound } from "../harness/import/python_number.ts";

/** An MNIST snippet training with `callback`, after `head` (imports, constants, the schedule). */
function imported(
  head: string,
  callback: string,
  opts: { optimizer?: string; epochs?: number; keras?: string } = {},
): ImportedReplication {
  const code = `import math
import numpy as np
import tensorflow as tf
from tensorflow import keras
from tensorflow.keras.callbacks import LearningRateScheduler
${head}
(x_train, y_train), (x_test, y_test) = keras.datasets.mnist.load_data()
x_train = x_train / 255.0
y_train = keras.utils.to_categorical(y_train)
model = keras.Sequential([keras.layers.Flatten(input_shape=(28, 28)),
                          keras.layers.Dense(10, activation='softmax')])
model.compile(optimizer=${opts.optimizer ?? "keras.optimizers.SGD(learning_rate=0.1)"},
              loss='categorical_crossentropy', metrics=['accuracy'])
model.fit(x_train, y_train, epochs=${opts.epochs ?? 5}, callbacks=[${callback}])
`;
  return importSnippet(code, "post.py", { name: "lr", keras: opts.keras });
}

function table(r: ImportedReplication): unknown {
  return JSON.parse(r.files["spec.json"]).protocols[0].learningRateScheduler;
}

function scheduleTodo(r: ImportedReplication): string | undefined {
  return r.todos.find((t) => t.startsWith("spec.json protocols.0.learningRateScheduler"));
}

Deno.test("LearningRateScheduler: a def of epoch and module constants, as the constants were at fit()", () => {
  const r = imported(
    `INITIAL_LR = 0.1
DROP = 0.5
EVERY = 2

def step_decay(epoch):
    """Halves the learning rate every EVERY epochs."""
    # from 0.1
    return INITIAL_LR * DROP ** math.floor(epoch / EVERY)
`,
    "LearningRateScheduler(step_decay, verbose=1)",
  );
  // 0.1 at epochs 1-2 is the optimizer's already: only the changes are listed.
  assert.deepEqual(table(r), { "3": 0.05, "5": 0.025 });
  assert.equal(scheduleTodo(r), undefined, r.todos.join("\n"));
  assert.ok(
    r.notes.some((n) =>
      n.includes("`step_decay` (line 10) evaluated for epochs 0 to 4") && !n.includes("lr the")
    ),
    r.notes.join("\n"),
  );
  assert.match(JSON.parse(r.files["spec.json"]).protocols[0].description, /set each epoch/);
  assert.deepEqual(r.blocking, [], "the folder runs as it is");
  // A constant changed after fit() is not the one fit() ran with.
  const later = imported(
    "DROP = 0.5\ndef s(epoch):\n    return 0.1 * DROP ** epoch\n",
    "LearningRateScheduler(s)",
    { epochs: 2 },
  );
  assert.deepEqual(table(later), { "2": 0.05 });
});

Deno.test("LearningRateScheduler: (epoch, lr) with round(), Python's half-even rounding and float32 lr", () => {
  const code9 = imported(
    "def scheduler(epoch, lr):\n    return round(0.003 * 1/(1 + 0.319 * epoch), 10)\n",
    "LearningRateScheduler(scheduler, verbose=1)",
    { optimizer: "keras.optimizers.Adam(learning_rate=0.003)", epochs: 4 },
  );
  assert.deepEqual(table(code9), { "2": 0.0022744503, "3": 0.0018315018, "4": 0.0015329586 });
  assert.ok(code9.notes.some((n) => n.includes("lr the learning rate in force")));
  // round(0.125, 2) is 0.12 in Python (half to even on the exact value), not 0.13.
  const halves = imported(
    "",
    "LearningRateScheduler(lambda epoch: round(0.125 * (epoch + 1), 2))",
    { epochs: 4 },
  );
  assert.deepEqual(table(halves), { "1": 0.12, "2": 0.25, "3": 0.38, "4": 0.5 });
  // lr is the learning rate in force as Keras' float32 variable holds it.
  const lr = imported(
    `def decay(epoch, lr):
    if epoch < 2:
        return lr
    elif epoch == 2:
        return lr * 0.5
    else:
        return max(lr * np.exp(-0.1), 0.001)
`,
    "LearningRateScheduler(decay)",
  );
  assert.deepEqual(table(lr), {
    "3": 0.05000000074505806,
    "4": 0.045241871575954384,
    "5": 0.04093653682530264,
  });
  // No learning rate given: Keras' default for the optimizer and version before the first.
  const adam = imported("", "LearningRateScheduler(lambda epoch, lr: lr * 0.5)", {
    optimizer: "'adam'",
    epochs: 2,
  });
  assert.deepEqual(table(adam), { "1": 0.0005000000237487257, "2": 0.0002500000118743628 });
});

Deno.test("LearningRateScheduler: what claimcheck does not run stays TODO, naming the line", () => {
  const cases: [string, string, RegExp, { keras?: string }?][] = [
    [
      "def s(epoch):\n    lr = 0.1\n    return lr\n",
      "LearningRateScheduler(s)",
      /line 7: `lr = 0\.1` is outside what claimcheck evaluates/,
    ],
    [
      "",
      "LearningRateScheduler(lambda epoch: tf.math.exp(-0.1 * epoch))",
      /line 14: `tf\.math\.exp\(-0\.1 \* epoch\)` is outside/,
    ],
    [
      "def s(epoch):\n    if epoch > 1 and epoch < 3:\n        return 0.01\n    return 0.1\n",
      "LearningRateScheduler(s)",
      /line 7: `epoch > 1 and epoch < 3` is outside/,
    ],
    ["", "LearningRateScheduler(lambda epoch: 1)", /returns the int 1 at epoch 0.*ValueError/],
    [
      "def s(epoch):\n    if epoch < 2:\n        return 0.1\n",
      "LearningRateScheduler(s)",
      /returns None at epoch 2/,
    ],
    ["", "LearningRateScheduler(lambda epoch: 0.1 - 0.05 * epoch)", /returns -?0 at epoch 2/],
    ["", "LearningRateScheduler(lambda epoch: 0.1 * RATE ** epoch)", /`RATE` is not a number/],
    ["", "LearningRateScheduler(my_schedule)", /`my_schedule` is not defined/],
    [
      "",
      "LearningRateScheduler(lambda epoch, lr: lr * 0.9)",
      /Keras 2\.0\.8 calls the schedule with the epoch only/,
      { keras: "2.0.8" },
    ],
    [
      "",
      "LearningRateScheduler(lambda epoch, lr: lr * 0.9), " +
      "keras.callbacks.ReduceLROnPlateau()",
      /which another callback of fit\(\) sets too/,
    ],
  ];
  for (const [head, callback, todo, opts] of cases) {
    const r = imported(head, callback, opts);
    assert.equal(table(r), undefined, callback);
    assert.match(scheduleTodo(r) ?? "", todo, `${callback}:\n${r.todos.join("\n")}`);
  }
});

Deno.test("Python's numbers: floor division, modulo and round as CPython computes them", () => {
  const f = (v: number): PyNumber => ({ v, int: false });
  const i = (v: number): PyNumber => ({ v, int: true });
  // Each expected value as CPython 3 prints it.
  const cases: [string, PyNumber, PyNumber, PyNumber | string][] = [
    ["//", f(-7.5), i(2), f(-4)],
    ["%", f(7.5), i(-2), f(-0.5)],
    ["//", i(1), f(0.1), f(9)], // not 10: 0.1 is a little above 1/10
    ["%", i(1), f(0.1), f(0.09999999999999995)],
    ["//", i(5), i(-2), i(-3)],
    ["%", i(-5), i(3), i(1)],
    ["/", i(10), i(4), f(2.5)],
    ["**", i(2), i(10), i(1024)],
    ["**", i(2), i(-1), f(0.5)],
    ["**", f(0.95), i(7), f(0.6983372960937497)],
    ["//", i(1), i(0), "divides by zero (Python raises ZeroDivisionError)"],
  ];
  for (const [op, a, b, want] of cases) {
    assert.deepEqual(pythonArithmetic(op, a, b), want, `${a.v} ${op} ${b.v}`);
  }
  assert.ok(Object.is((pythonArithmetic("//", f(-0), i(3)) as PyNumber).v, -0));
  assert.ok(Object.is((pythonArithmetic("//", f(0), i(-3)) as PyNumber).v, -0));
  const rounds: [PyNumber, number | undefined, PyNumber][] = [
    [f(2.675), 2, f(2.67)], // 2.675 is 2.67499999…
    [f(0.125), 2, f(0.12)],
    [f(0.375), 2, f(0.38)],
    [f(0.5), undefined, i(0)],
    [f(1.5), undefined, i(2)],
    [i(15), -1, i(20)],
    [i(25), -1, i(20)],
    [f(1234.5678), -2, f(1200)],
    [f(0.1 + 0.2), 16, f(0.3)],
    [f(5e-324), 323, f(0)],
  ];
  for (const [x, n, want] of rounds) {
    assert.deepEqual(pythonRound(x, n), want, `round(${x.v}, ${n})`);
  }
  assert.ok(Object.is((pythonRound(f(-0.001), 2) as PyNumber).v, -0));
});
