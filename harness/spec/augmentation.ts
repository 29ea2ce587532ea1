/**
 * Keras' ImageDataGenerator augmentation as spec data: the geometric transforms posts declare
 * (`rotation_range`, `width_shift_range`, `height_shift_range`, `shear_range`, `zoom_range`,
 * `fill_mode`, `cval`), and how each Keras version read them (harness/data/augment.ts applies
 * them).
 * @module
 */
import { z } from "zod";

/** How points outside the image are filled: Keras' `fill_mode` (SciPy's ndimage modes). */
export const FILL_MODES = ["nearest", "constant", "reflect", "wrap"] as const;

/** One of Keras' fill modes (see FILL_MODES). */
export type FillMode = (typeof FILL_MODES)[number];

/**
 * A protocol's `augmentation`: Keras ImageDataGenerator's arguments in camelCase. Each training
 * image of each batch gets its own random transform; validation and test images none.
 */
export const AugmentationSchema = z.strictObject({
  /** Rotation drawn uniformly in ±rotationRange degrees. */
  rotationRange: z.number().min(0).default(0),
  /** Horizontal shift: a fraction of the width (below 1) or pixels (1 and above). */
  widthShiftRange: z.number().min(0).default(0),
  /** Vertical shift: a fraction of the height (below 1) or pixels (1 and above). */
  heightShiftRange: z.number().min(0).default(0),
  /** Shear angle drawn uniformly in ±shearRange degrees (radians before Keras 2.1.3). */
  shearRange: z.number().min(0).default(0),
  /** Zoom per axis, drawn apart in [1 − z, 1 + z], or in [lower, upper]; above 1 zooms out. */
  zoomRange: z.union([
    z.number().min(0).lt(1),
    z.tuple([z.number().positive(), z.number().positive()]),
  ]).default(0),
  /** How points outside the input are filled (Keras' default: nearest). */
  fillMode: z.enum(FILL_MODES).default("nearest"),
  /** The value of points outside the input with fillMode "constant" (in scaled units). */
  cval: z.number().optional(),
}).superRefine((a, ctx) => {
  if (Array.isArray(a.zoomRange) && a.zoomRange[0] > a.zoomRange[1]) {
    ctx.addIssue({
      code: "custom",
      path: ["zoomRange"],
      message: `[${a.zoomRange.join(", ")}] is not [lower, upper]`,
    });
  }
  if (a.cval !== undefined && a.fillMode !== "constant") {
    ctx.addIssue({
      code: "custom",
      path: ["cval"],
      message: `cval fills points outside the image only with fillMode "constant" (this one ` +
        `is "${a.fillMode}"): drop it, or set fillMode "constant"`,
    });
  }
  const [lower, upper] = zoomBounds(a.zoomRange);
  const none = !a.rotationRange && !a.widthShiftRange && !a.heightShiftRange && !a.shearRange &&
    lower === 1 && upper === 1;
  if (none) {
    ctx.addIssue({
      code: "custom",
      path: [],
      message: "this augmentation transforms nothing: give a rotationRange, widthShiftRange, " +
        "heightShiftRange, shearRange or zoomRange, or drop it",
    });
  }
});

/** A protocol's augmentation (see AugmentationSchema). */
export interface Augmentation {
  /** Rotation drawn uniformly in ±rotationRange degrees. */
  rotationRange: number;
  /** Horizontal shift: a fraction of the width (below 1) or pixels. */
  widthShiftRange: number;
  /** Vertical shift: a fraction of the height (below 1) or pixels. */
  heightShiftRange: number;
  /** Shear angle range (degrees; radians before Keras 2.1.3). */
  shearRange: number;
  /** Zoom per axis in [1 − z, 1 + z], or [lower, upper]. */
  zoomRange: number | [number, number];
  /** How points outside the input are filled. */
  fillMode: FillMode;
  /** The fill value with fillMode "constant" (default 0). */
  cval?: number;
}

/** Keras' zoom_range as [lower, upper]: a number z is [1 − z, 1 + z]. */
export function zoomBounds(zoom: number | [number, number]): [number, number] {
  return typeof zoom === "number" ? [1 - zoom, 1 + zoom] : zoom;
}

/**
 * How a Keras version draws and applies the transforms. Versions differ in the unit of the shear
 * range, in how a shift range of 1 or more is read, in the interpolation, and in the coordinates
 * of the affine matrix (Keras 2.9 moved ImageDataGenerator from keras-preprocessing 1.1.2 into
 * Keras, with the later fix that builds the matrix in (x, y) order about the pixel grid's centre).
 */
export interface AugmentationRule {
  /** The Keras versions that augment this way, e.g. "2.9–3". */
  versions: string;
  /** Keras 2.0–2.1.2 drew the shear in radians, later versions in degrees. */
  shearRadians: boolean;
  /**
   * How a shift range r is read: `fraction`, r × size whatever r is (Keras 2.0–2.1.2);
   * `pixels`, a fraction of the size below 1, else uniform in ±r pixels (2.1.3–2.1.5);
   * `whole`, as `pixels` except that a whole r (Python's int) draws whole pixels in
   * ±(r − 1) (from 2.1.6).
   */
  shifts: "fraction" | "pixels" | "whole";
  /** SciPy's spline order: 0 (nearest pixel) to Keras 2.1.3, then 1 (bilinear). */
  order: 0 | 1;
  /**
   * From Keras 2.9: the matrix is built in (x, y) = (column, row) order about the centre
   * (h/2 − 0.5, w/2 − 0.5), so the height shift moves columns and the width shift rows;
   * before, in (row, column) order about (h/2 + 0.5, w/2 + 0.5).
   */
  xy: boolean;
}

/** The augmentation rule of a Keras version (undefined: Keras 3); the version is valid. */
export function augmentationRule(keras: string | undefined): AugmentationRule {
  const [major, minor = 0, patch = 0] = (keras ?? "3").split(".").map(Number);
  const from = (m: number, n: number, p: number) =>
    major > m || (major === m && (minor > n || (minor === n && patch >= p)));
  const rule = (versions: string, shifts: AugmentationRule["shifts"], order: 0 | 1) => ({
    versions,
    shearRadians: !from(2, 1, 3),
    shifts,
    order,
    xy: from(2, 9, 0),
  });
  if (from(2, 9, 0)) return rule("2.9–3", "whole", 1);
  if (from(2, 1, 6)) return rule("2.1.6–2.8", "whole", 1);
  if (from(2, 1, 4)) return rule("2.1.4–2.1.5", "pixels", 1);
  if (from(2, 1, 3)) return rule("2.1.3", "pixels", 0);
  return rule("2.0–2.1.2", "fraction", 0);
}
