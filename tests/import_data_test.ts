/**
 * `deno task new NAME --from SNIPPET`: the data a notebook prepares for fit(). A holdout cut from
 * the training split (`X_valid, X_train = X_train_full[:N], X_train_full[N:]` given as
 * `validation_data`) is `validationFirst: N`; a standardization with the training images' own
 * mean and std (`X_train.mean(axis=0)`, `X_train.mean()`) is `scaling.standardize` ("pixel",
 * "dataset"); whatever else the snippet does to its arrays stays a TODO naming the line that does
 * it. Small inline snippets, imported without training.
 */
import assert from "assert";
import { type ImportedReplication, importSnippet } from "../harness/import/import_snippet.ts";

/** Fashion-MNIST as Hands-On ML chapter 11 prepares it: / 255, the first 5,000 held out. */
const HOLDOUT = `from tensorflow import keras
import numpy as np
(X_train_full, y_train_full), (X_test, y_test) = keras.datasets.fashion_mnist.load_data()
X_train_full = X_train_full / 255.0
X_test = X_test / 255.0
X_valid, X_train = X_train_full[:5000], X_train_full[5000:]
y_valid, y_train = y_train_full[:5000], y_train_full[5000:]
`;

/** Lines 8–12: each pixel standardized with its mean and std over the 55,000 trained on. */
const PER_PIXEL = `pixel_means = X_train.mean(axis=0, keepdims=True)
pixel_stds = X_train.std(axis=0, keepdims=True)
X_train_scaled = (X_train - pixel_means) / pixel_stds
X_valid_scaled = (X_valid - pixel_means) / pixel_stds
X_test_scaled = (X_test - pixel_means) / pixel_stds
`;

/** Three lines: the model, compiled. */
const MODEL = `model = keras.models.Sequential([keras.layers.Flatten(input_shape=[28, 28]),
                                 keras.layers.Dense(10, activation="softmax")])
model.compile(loss="sparse_categorical_crossentropy", optimizer="sgd", metrics=["accuracy"])
`;

/** The snippet imported, its protocol, and its TODOs about the protocol, one a line. */
function imported(code: string): {
  r: ImportedReplication;
  p: Record<string, unknown>;
  todos: string[];
} {
  const r = importSnippet(code, "post.py", { name: "data" });
  const p = JSON.parse(r.files["spec.json"]).protocols[0];
  return { r, p, todos: r.todos.filter((t) => t.startsWith("spec.json protocols")) };
}

Deno.test("new --from: a holdout cut from the training split, standardized per pixel: validationFirst and scaling.standardize pixel", () => {
  const { r, p, todos } = imported(
    `${HOLDOUT}${PER_PIXEL}${MODEL}history = model.fit(X_train_scaled, y_train, epochs=2,
                    validation_data=(X_valid_scaled, y_valid),
                    callbacks=[keras.callbacks.ReduceLROnPlateau(factor=0.5, patience=5)])
`,
  );
  assert.deepEqual(todos, []);
  assert.deepEqual(r.blocking, []);
  assert.equal(p.dataset, "fashion-mnist");
  assert.deepEqual(p.scaling, { divide: 255, standardize: "pixel" });
  assert.equal(p.pixelDivisor, undefined);
  assert.equal(p.validationFirst, 5000);
  assert.equal(p.validationSplit, undefined);
  assert.deepEqual(p.reduceLROnPlateau, { monitor: "val_loss", factor: 0.5, patience: 5 });
  assert.match(
    String(p.description),
    /pixels \/ 255, then standardized with the mean and std of the training images \(each pixel's own\); the first 5000 training images held out for validation/,
  );
  assert.ok(
    r.notes.includes(
      "line 16: validation_data is the first 5000 training images, which x leaves out: " +
        "validationFirst 5000 (val_loss, val_acc)",
    ),
    r.notes.join("\n"),
  );
});

Deno.test("new --from: a holdout sliced before or after / 255 and astype; a validation accuracy claim reads val_acc", () => {
  const { r, p, todos } = imported(`import keras
from keras.datasets import mnist
(x_train, y_train), (x_test, y_test) = mnist.load_data()
x_val = x_train[:10000].astype('float32') / 255
x_tr = (x_train.astype('float32') / 255)[10000:]
y_val, y_tr = keras.utils.to_categorical(y_train[:10000]), keras.utils.to_categorical(y_train)[10000:]
model = keras.models.Sequential([keras.layers.Flatten(input_shape=(28, 28)),
                                 keras.layers.Dense(10, activation='softmax')])
model.compile(loss='categorical_crossentropy', optimizer='adam', metrics=['accuracy'])
# Reaches 92% validation accuracy.
model.fit(x_tr, y_tr, batch_size=128, epochs=3, validation_data=(x_val, y_val))
`);
  assert.deepEqual(todos, []);
  assert.deepEqual(r.blocking, []);
  assert.equal(p.dataset, "mnist");
  assert.equal(p.pixelDivisor, 255);
  assert.equal(p.scaling, undefined);
  assert.equal(p.validationFirst, 10000);
  const claims = JSON.parse(r.files["spec.json"]).claims;
  assert.deepEqual(claims.map((c: { metric: string }) => c.metric), ["val_acc"]);
});

Deno.test("new --from: a standardization with the training images' mean and std over all pixels: scaling.standardize dataset", () => {
  const { r, p, todos } = imported(`import numpy as np
from tensorflow import keras
(x_train, y_train), (x_test, y_test) = keras.datasets.mnist.load_data()
x_train, x_test = x_train / 255.0, x_test / 255.0
mean, std = x_train.mean(), np.std(x_train)
x_train = (x_train - mean) / std
x_test = (x_test - mean) / std
${MODEL}model.fit(x_train, y_train, epochs=1, validation_data=(x_test, y_test))
`);
  assert.deepEqual(todos, []);
  assert.deepEqual(r.blocking, []);
  assert.deepEqual(p.scaling, { divide: 255, standardize: "dataset" });
  assert.equal(p.validationFirst, undefined);
  assert.ok(r.notes.some((n) => n.startsWith("line 11: validation_data is the test set")));
});

Deno.test("new --from: a holdout or standardization not recognised stays a TODO naming its line", () => {
  /** The one TODO of the import that starts with `start`. */
  const todo = (code: string, start: string) => {
    const { todos } = imported(code);
    const found = todos.filter((t) => t.startsWith(start));
    assert.equal(found.length, 1, todos.join("\n"));
    return found[0];
  };
  const fit =
    "model.fit(X_train_scaled, y_train, epochs=2, validation_data=(X_valid_scaled, y_valid))\n";
  const dataset = "spec.json protocols.0.dataset: line 16: fit()'s inputs are not the dataset's " +
    "training images as loaded and scaled";
  // The statistics of all 60,000 images, not of the 55,000 trained on.
  assert.equal(
    todo(`${HOLDOUT}${PER_PIXEL.replaceAll("X_train.", "X_train_full.")}${MODEL}${fit}`, dataset),
    `${dataset} (line 10: standardized with the mean and std of all the training images, not ` +
      "of the images fit() trains on, the training images after the first 5000 (line 6)): a " +
      "data pipeline of the snippet's own",
  );
  // An epsilon added to the std.
  assert.equal(
    todo(
      `${HOLDOUT}${PER_PIXEL.replace("/ pixel_stds", "/ (pixel_stds + 1e-7)")}${MODEL}${fit}`,
      dataset,
    ),
    `${dataset} (line 10: \`(X_train - pixel_means) / (pixel_stds + 1e-7)\` changes the train ` +
      "images): a data pipeline of the snippet's own",
  );
  // Statistics over another axis.
  assert.match(
    todo(`${HOLDOUT}${PER_PIXEL.replace("axis=0", "axis=1")}${MODEL}${fit}`, dataset),
    /\(line 8: `X_train\.mean\(axis=1, keepdims=True\)` is not translated \(claimcheck /,
  );
  // The mean subtracted, no std.
  assert.equal(
    todo(
      `${HOLDOUT}${PER_PIXEL.replace(") / pixel_stds", ")")}${MODEL}${fit}`,
      dataset,
    ),
    `${dataset} (line 10: the images' mean is subtracted, but not divided by a std): a data ` +
      "pipeline of the snippet's own",
  );
  // The last 5,000 images held out (a negative index), not the first.
  assert.equal(
    todo(
      `${
        HOLDOUT.replace("[:5000], X_train_full[5000:]", "[-5000:], X_train_full[:-5000]")
      }${MODEL}${fit.replaceAll("_scaled", "")}`,
      "spec.json protocols.0.dataset: line 11",
    ),
    "spec.json protocols.0.dataset: line 11: fit()'s inputs are not the dataset's training " +
      "images as loaded and scaled (line 6: `X_train_full[:-5000]` takes part of the train " +
      "images): a data pipeline of the snippet's own",
  );
  // All 60,000 standardized, then cut: statistics of the images held out too.
  const standardizedFirst = HOLDOUT.replace(
    "X_valid,",
    "X_train_full = (X_train_full - X_train_full.mean(axis=0)) / X_train_full.std(axis=0)\nX_valid,",
  );
  assert.equal(
    todo(
      `${standardizedFirst}${MODEL}${fit.replaceAll("_scaled", "")}`,
      "spec.json protocols.0.dataset",
    ),
    "spec.json protocols.0.dataset: line 12: fit()'s inputs are not the dataset's training " +
      "images as loaded and scaled (line 6: standardized with the mean and std of all the " +
      "training images, not of the images fit() trains on, the training images after the first " +
      "5000 (line 7)): a data pipeline of the snippet's own",
  );
  // Statistics of the raw pixels, applied to the divided ones.
  assert.equal(
    todo(
      `from tensorflow import keras
(x_train, y_train), (x_test, y_test) = keras.datasets.mnist.load_data()
m, s = x_train.mean(), x_train.std()
x_train = x_train / 255
x_train = (x_train - m) / s
${MODEL}model.fit(x_train, y_train, epochs=1)
`,
      "spec.json protocols.0.dataset",
    ),
    "spec.json protocols.0.dataset: line 9: fit()'s inputs are not the dataset's training " +
      "images as loaded and scaled (line 5: standardized with the mean and std of all the " +
      "training images / 1, not of the images fit() trains on, all the training images / 255): " +
      "a data pipeline of the snippet's own",
  );
  // Validation images cut at another row than the training images.
  const otherCut = imported(
    `${HOLDOUT.replaceAll("[:5000]", "[:4000]")}${MODEL}${fit.replaceAll("_scaled", "")}`,
  );
  assert.equal(otherCut.p.validationFirst, 5000);
  assert.deepEqual(otherCut.todos, [
    "spec.json protocols.0: line 11: validation_data other than the test set or the first " +
    "training images that x leaves out, prepared as x is, is not translated (the first 4000 " +
    "training images (line 6), the first 4000 training labels (line 7))",
  ]);
  // Validation images not standardized as the training images are.
  assert.match(
    todo(
      `${HOLDOUT}${PER_PIXEL}${MODEL}${fit.replace("X_valid_scaled", "X_valid")}`,
      "spec.json protocols.0: line 16",
    ),
    /: validation_data other than the test set or the first training images that x leaves out, prepared as x is, is not translated/,
  );
  // Labels cut at another row than the images.
  assert.equal(
    todo(
      `${HOLDOUT.replace("y_train_full[5000:]", "y_train_full[4000:]")}${MODEL}${
        fit.replaceAll("_scaled", "")
      }`,
      "spec.json protocols.0.targets",
    ),
    "spec.json protocols.0.targets: line 11: the labels are the training labels after the " +
      "first 4000 (line 7), the images the training images after the first 5000 (line 6): not " +
      "the same rows",
  );
  // Keras' validation_split on what the holdout left.
  assert.match(
    todo(
      `${HOLDOUT}${MODEL}model.fit(X_train, y_train, epochs=2, validation_split=0.1)\n`,
      "spec.json protocols.0.validationSplit",
    ),
    /line 11: validation_split holds out the last part of x, which already leaves out the first 5000 training images/,
  );
});

Deno.test("new --from: a loop before the data pipeline is not named for it", () => {
  const data = `import numpy as np
from keras.datasets import mnist
(x_train, y_train), (x_test, y_test) = mnist.load_data()
for i in range(3):
    print(i)
`;
  const model = `import keras
model = keras.models.Sequential([keras.layers.Flatten(input_shape=(28, 28)),
                                 keras.layers.Dense(10, activation='softmax')])
model.compile(loss='sparse_categorical_crossentropy', optimizer='sgd', metrics=['accuracy'])
model.fit(x_train, y_train, epochs=1)
`;
  const divided = imported(`${data}x_train = x_train / 255\n${model}`);
  assert.deepEqual(divided.todos, []);
  assert.equal(divided.p.pixelDivisor, 255);
  const noisy = imported(
    `${data}x_train = x_train / 255 + np.random.normal(size=x_train.shape)\n${model}`,
  );
  assert.deepEqual(noisy.todos, [
    "spec.json protocols.0.dataset: line 11: fit()'s inputs are not the dataset's training " +
    "images as loaded and scaled (line 6: `x_train / 255 + np.random.normal(size=x_train.shape)` " +
    "changes the train images): a data pipeline of the snippet's own",
  ]);
});

Deno.test("new --from: a notebook's printed evaluate() on the test images standardized as fit()'s is its claim", () => {
  const cell = (code: string, printed?: string) => ({
    cell_type: "code",
    source: code,
    outputs: printed === undefined
      ? []
      : [{ output_type: "stream", name: "stdout", text: printed }],
  });
  const nb = (test: string) =>
    JSON.stringify({
      cells: [
        cell(`${HOLDOUT}${PER_PIXEL}${MODEL}`),
        cell(
          "model.fit(X_train_scaled, y_train, epochs=2, validation_data=(X_valid_scaled, y_valid))",
        ),
        cell(`score = model.evaluate(${test}, y_test)\nprint(score)`, "[0.3312, 0.8812]\n"),
      ],
      metadata: {},
      nbformat: 4,
      nbformat_minor: 2,
    });
  const scaled = importSnippet(nb("X_test_scaled"), "post.ipynb", { name: "data" });
  const claims = JSON.parse(scaled.files["spec.json"]).claims;
  assert.deepEqual(
    claims.map((c: { metric: string; claimed: number }) => [c.metric, c.claimed]),
    [["test_acc", 0.8812]],
  );
  const raw = importSnippet(nb("X_test"), "post.ipynb", { name: "data" });
  assert.equal(JSON.parse(raw.files["spec.json"]).claims[0].id, "placeholder");
  assert.ok(
    raw.notes.some((n) =>
      n.endsWith(
        "evaluate() is not on the test set prepared as fit()'s data: no claim drafted from it",
      )
    ),
    raw.notes.join("\n"),
  );
});
