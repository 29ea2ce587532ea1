;; One momentum-SGD update of a weight tensor in tfjs-backend-wasm's heap, in one call instead of
;; tfjs' four kernels (and their scalar tensors) per weight, with the same float32 operations in
;; the same order as tfjs-core's MomentumOptimizer.applyGradients (without Nesterov):
;;   a' = m·a + g        w' = c·a' + w        with c = −lr
;; so the results are bit-identical to tfjs' (tests/wasm_kernels_test.ts checks them).
;; Writes a' and w' to new buffers; four lanes at a time, then the rest one by one.
(module
  (import "env" "memory" (memory 1))
  (func (export "momentum")
    (param $w i32) (param $a i32) (param $g i32) (param $outW i32) (param $outA i32)
    (param $size i32) (param $m f32) (param $c f32)
    (local $i i32) (local $bytes i32) (local $av v128) (local $as f32)
    (local.set $bytes (i32.shl (local.get $size) (i32.const 2)))
    (local.set $i (i32.const 0))
    (block $vectorsDone (loop $vectors
      (br_if $vectorsDone (i32.gt_u (i32.add (local.get $i) (i32.const 16)) (local.get $bytes)))
      (local.set $av (f32x4.add
        (f32x4.mul (f32x4.splat (local.get $m)) (v128.load (i32.add (local.get $a) (local.get $i))))
        (v128.load (i32.add (local.get $g) (local.get $i)))))
      (v128.store (i32.add (local.get $outA) (local.get $i)) (local.get $av))
      (v128.store (i32.add (local.get $outW) (local.get $i)) (f32x4.add
        (f32x4.mul (f32x4.splat (local.get $c)) (local.get $av))
        (v128.load (i32.add (local.get $w) (local.get $i)))))
      (local.set $i (i32.add (local.get $i) (i32.const 16)))
      (br $vectors)))
    (block $done (loop $scalars
      (br_if $done (i32.ge_u (local.get $i) (local.get $bytes)))
      (local.set $as (f32.add
        (f32.mul (local.get $m) (f32.load (i32.add (local.get $a) (local.get $i))))
        (f32.load (i32.add (local.get $g) (local.get $i)))))
      (f32.store (i32.add (local.get $outA) (local.get $i)) (local.get $as))
      (f32.store (i32.add (local.get $outW) (local.get $i)) (f32.add
        (f32.mul (local.get $c) (local.get $as))
        (f32.load (i32.add (local.get $w) (local.get $i)))))
      (local.set $i (i32.add (local.get $i) (i32.const 4)))
      (br $scalars))))
)
