/**
 * `new --from` translates Keras' `LearningRateScheduler(f)` into the spec's per-epoch table by
 * running `f` as Python would (Python's numbers: harness/import/python_number.ts), and leaves
 * whatever it does not run as a TODO naming the line. The expected tables were computed with
 * CPython 3 and numpy (the learning rate in force as a float32, as Keras' variable holds it).
 * `ReduceLROnPlateau(…)` becomes the spec's `reduceLROnPlateau`, its arguments by the names of
 * the snippet's Keras version.
 */
import assert from "assert";
import { type ImportedReplication, importSnippet } from "../harness/import/import_snippet.ts";
import { type PyNumber, pythonArithmetic, pythonRound } from "../harness/import/python_number.ts";

/** An MNIST snippet training with `callback`, after `head` (imports, constants, the schedule). */
function imported(
  head: string,
  callback: string,
  opts: { optimizer?: string; epochs?: number; keras?: string; fit?: string } = {},
): ImportedReplication {
  const code = `import math
import numpy as np
import tensorflow as tf
from tensorflow import keras
from tensorflow.keras.callbacks import LearningRateScheduler
${head}
(x_train, y_train), (x_test, y_test) = keras.datasets.mnist.load_data()
x_train, x_test = x_train / 255.0, x_test / 255.0
y_train, y_test = keras.utils.to_categorical(y_train), keras.utils.to_categorical(y_test)
model = keras.Sequential([keras.layers.Flatten(input_shape=(28, 28)),
                          keras.layers.Dense(10, activation='softmax')])
model.compile(optimizer=${opts.optimizer ?? "keras.optimizers.SGD(learning_rate=0.1)"},
              loss='categorical_crossentropy', metrics=['accuracy'])
model.fit(x_train, y_train, epochs=${opts.epochs ?? 5}, callbacks=[${callback}]${opts.fit ?? ""})
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

function plateau(r: ImportedReplication): unknown {
  return JSON.parse(r.files["spec.json"]).protocols[0].reduceLROnPlateau;
}

Deno.test("ReduceLROnPlateau: its arguments by name or position, the monitor as the protocol records it", () => {
  const split = { fit: ", validation_split=0.1" };
  const named = imported(
    "",
    "keras.callbacks.ReduceLROnPlateau(monitor='val_accuracy', factor=0.5, patience=2, " +
      "verbose=1, mode='max', min_delta=0.001, cooldown=1, min_lr=1e-5)",
    split,
  );
  assert.deepEqual(plateau(named), {
    monitor: "val_acc",
    factor: 0.5,
    patience: 2,
    mode: "max",
    minDelta: 0.001,
    cooldown: 1,
    minLr: 1e-5,
  });
  assert.deepEqual(named.blocking, [], "the folder runs as it is");
  assert.match(JSON.parse(named.files["spec.json"]).protocols[0].description, /val_acc stops/);
  // Keras' parameters in order (the same from 2.0 to 3); the spec's defaults are Keras'.
  const positional = imported("", "keras.callbacks.ReduceLROnPlateau('loss', 0.2, 3)", {
    keras: "2.2.4",
  });
  assert.deepEqual(plateau(positional), { monitor: "train_loss", factor: 0.2, patience: 3 });
  // Keras' default monitor, val_loss: the test set's loss where validation_data is the test set.
  const onTest = imported("", "keras.callbacks.ReduceLROnPlateau()", {
    fit: ", validation_data=(x_test, y_test)",
  });
  assert.deepEqual(plateau(onTest), { monitor: "test_loss" });
  assert.deepEqual(onTest.blocking, []);
  const none = imported("", "keras.callbacks.ReduceLROnPlateau(patience=2)");
  assert.match(
    String(plateau(none)),
    /^TODO: .*monitor \('val_loss' \(Keras' default\): fit\(\) has no validation data/,
  );
});

Deno.test("ReduceLROnPlateau: epsilon, min_delta's name before Keras 2.1.6, as each version reads it", () => {
  const old = imported("", "keras.callbacks.ReduceLROnPlateau(monitor='loss', epsilon=0.01)", {
    keras: "2.1.5",
  });
  assert.deepEqual(plateau(old), { monitor: "train_loss", minDelta: 0.01 });
  const unknown = imported(
    "",
    "keras.callbacks.ReduceLROnPlateau(monitor='loss', min_delta=0.01)",
    {
      keras: "2.1.5",
    },
  );
  assert.match(String(plateau(unknown)), /min_delta \(Keras 2\.1\.5 names it epsilon: TypeError\)/);
  // 2.1.6 to 2.x: a deprecated alias, over a min_delta given; Keras 3 takes it into **kwargs.
  const alias = imported(
    "",
    "keras.callbacks.ReduceLROnPlateau(monitor='loss', min_delta=0.1, epsilon=0.01)",
    {
      keras: "2.6",
    },
  );
  assert.deepEqual(plateau(alias), { monitor: "train_loss", minDelta: 0.01 });
  const ignored = imported(
    "",
    "keras.callbacks.ReduceLROnPlateau(monitor='loss', min_delta=0.1, epsilon=0.01)",
  );
  assert.deepEqual(plateau(ignored), { monitor: "train_loss", minDelta: 0.1 });
  assert.ok(ignored.notes.some((n) => n.includes("Keras 3 ignores epsilon")), ignored.notes.join());
});

Deno.test("ReduceLROnPlateau: what Keras would not run as the spec does stays TODO, naming it", () => {
  const cases: [string, RegExp][] = [
    [
      "keras.callbacks.ReduceLROnPlateau(monitor='loss', factor=1.5)",
      /not translated: factor=1\.5$/,
    ],
    [
      "keras.callbacks.ReduceLROnPlateau(monitor='loss', mode='lowest')",
      /not translated: mode='lowest'$/,
    ],
    [
      "keras.callbacks.ReduceLROnPlateau(monitor='loss', cooldown=0.5)",
      /not translated: cooldown=0\.5$/,
    ],
    [
      "keras.callbacks.ReduceLROnPlateau(monitor='loss', baseline=0.1)",
      /not translated: baseline$/,
    ],
    [
      "keras.callbacks.ReduceLROnPlateau(monitor='val_mae')",
      /monitor \('val_mae' is not a metric claimcheck/,
    ],
    [
      "keras.callbacks.ReduceLROnPlateau(monitor='loss'), keras.callbacks.ReduceLROnPlateau(monitor='loss', factor=0.5)",
      /fit\(\) has another ReduceLROnPlateau; the spec holds one/,
    ],
  ];
  for (const [callback, todo] of cases) {
    const r = imported("", callback);
    assert.match(String(plateau(r)), /^TODO: /, callback);
    const listed = r.todos.find((t) => t.startsWith("spec.json protocols.0.reduceLROnPlateau"));
    assert.match(listed ?? "", todo, `${callback}:\n${r.todos.join("\n")}`);
  }
});

Deno.test("ReduceLROnPlateau with LearningRateScheduler(f(epoch)): the table lists every epoch", () => {
  // Keras sets f(epoch) at each epoch's start, over the plateau's reduction of the epoch before.
  const r = imported(
    "",
    "LearningRateScheduler(lambda epoch: 0.1 if epoch < 2 else 0.05), " +
      "keras.callbacks.ReduceLROnPlateau(monitor='loss', patience=0)",
    { epochs: 4 },
  );
  assert.deepEqual(table(r), { "1": 0.1, "2": 0.1, "3": 0.05, "4": 0.05 });
  assert.deepEqual(plateau(r), { monitor: "train_loss", patience: 0 });
  assert.deepEqual(r.blocking, []);
  assert.ok(r.notes.some((n) => n.includes("every epoch listed")), r.notes.join("\n"));
  // Alone, it lists only the changes.
  const alone = imported("", "LearningRateScheduler(lambda epoch: 0.1 if epoch < 2 else 0.05)", {
    epochs: 4,
  });
  assert.deepEqual(table(alone), { "3": 0.05 });
});
