/**
 * `--dataset`: rerunning a replication's protocols on another dataset, to see whether its claims
 * transfer. Only a dataset a protocol's model can take stands in: the same image size (or number
 * of features) and the same classes.
 * @module
 */
import type { ImageDataset, TableDataset } from "../data/datasets.ts";
import type { Protocol } from "../spec/spec.ts";
import { type TrainableReplication, Trainer, type TrainSettings } from "./trainer.ts";

/** A --dataset that cannot stand in for a protocol's dataset: a usage error, before training. */
export class TransferError extends Error {}

/** What a model sees of a dataset: its input size and its classes, in words. */
function _datasetShape(d: ImageDataset | TableDataset): string {
  const classes = (labels: Uint8Array) => labels.reduce((a, b) => Math.max(a, b), 0) + 1;
  return "features" in d
    ? `${d.width} features, ${classes(d.labels)} classes`
    : `${d.train.rows}×${d.train.cols} images, ${
      Math.max(classes(d.train.labels), classes(d.test.labels))
    } classes`;
}

/**
 * Loads each protocol's own dataset and `settings.dataset` (through `trainer`, whose settings
 * carry it) and throws a {@link TransferError} naming the protocol where they differ in input
 * size or classes, or where the protocol already trains on that dataset.
 */
export async function checkTransfer(
  rep: TrainableReplication,
  protocols: Protocol[],
  trainer: Trainer,
  settings: TrainSettings,
): Promise<void> {
  const own = new Trainer(rep, { ...settings, dataset: undefined });
  try {
    for (const p of protocols) {
      const flag = `--dataset ${settings.dataset}`;
      if (p.dataset === settings.dataset) {
        throw new TransferError(
          `${flag}: ${rep.name}/${p.id} already trains on ${p.dataset}; a transfer test needs ` +
            "another dataset",
        );
      }
      const from = _datasetShape(await own.dataset(p)),
        to = _datasetShape(await trainer.dataset(p));
      if (from !== to) {
        throw new TransferError(
          `${flag}: ${rep.name}/${p.id} trains on ${p.dataset} (${from}) and ` +
            `${settings.dataset} has ${to}; a transfer test needs the same input size and classes`,
        );
      }
    }
  } finally {
    own.dispose();
  }
}
