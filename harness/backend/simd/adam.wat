;; One Adam update of a weight tensor in tfjs-backend-wasm's heap, in one call instead of tfjs'
;; 14 kernels (and their scalar tensors) per weight. Each element goes through the same float32
;; operations, in the same order, as tfjs-core's AdamOptimizer.applyGradients:
;;   m' = m·β1 + g·(1 − β1)            v' = v·β2 + g²·(1 − β2)
;;   w' = (m' / a1) / (√(v' / a2) + ε) · (−lr) + w      with a1 = 1 − β1ᵗ, a2 = 1 − β2ᵗ
;; IEEE float32 multiply, divide, add and square root are correctly rounded, so the results are
;; bit-identical to tfjs' (tests/wasm_kernels_test.ts checks weights and moments after steps).
;; Writes m', v', w' to new buffers; four lanes at a time, then the rest one by one.
(module
  (import "env" "memory" (memory 1))
  (func (export "adam")
    (param $w i32) (param $m i32) (param $v i32) (param $g i32)
    (param $outW i32) (param $outM i32) (param $outV i32) (param $size i32)
    (param $b1 f32) (param $c1 f32) (param $b2 f32) (param $c2 f32)
    (param $a1 f32) (param $a2 f32) (param $eps f32) (param $negLr f32)
    (local $i i32) (local $bytes i32) (local $gs f32) (local $ms f32) (local $vs f32)
    (local $gv v128) (local $mv v128) (local $vv v128)
    (local.set $bytes (i32.shl (local.get $size) (i32.const 2)))
    (local.set $i (i32.const 0))
    (block $vectorsDone (loop $vectors
      (br_if $vectorsDone (i32.gt_u (i32.add (local.get $i) (i32.const 16)) (local.get $bytes)))
      (local.set $gv (v128.load (i32.add (local.get $g) (local.get $i))))
      (local.set $mv (f32x4.add
        (f32x4.mul (v128.load (i32.add (local.get $m) (local.get $i))) (f32x4.splat (local.get $b1)))
        (f32x4.mul (local.get $gv) (f32x4.splat (local.get $c1)))))
      (local.set $vv (f32x4.add
        (f32x4.mul (v128.load (i32.add (local.get $v) (local.get $i))) (f32x4.splat (local.get $b2)))
        (f32x4.mul (f32x4.mul (local.get $gv) (local.get $gv)) (f32x4.splat (local.get $c2)))))
      (v128.store (i32.add (local.get $outM) (local.get $i)) (local.get $mv))
      (v128.store (i32.add (local.get $outV) (local.get $i)) (local.get $vv))
      (v128.store (i32.add (local.get $outW) (local.get $i)) (f32x4.add
        (f32x4.mul
          (f32x4.div
            (f32x4.div (local.get $mv) (f32x4.splat (local.get $a1)))
            (f32x4.add (f32x4.sqrt (f32x4.div (local.get $vv) (f32x4.splat (local.get $a2))))
              (f32x4.splat (local.get $eps))))
          (f32x4.splat (local.get $negLr)))
        (v128.load (i32.add (local.get $w) (local.get $i)))))
      (local.set $i (i32.add (local.get $i) (i32.const 16)))
      (br $vectors)))
    (block $done (loop $scalars
      (br_if $done (i32.ge_u (local.get $i) (local.get $bytes)))
      (local.set $gs (f32.load (i32.add (local.get $g) (local.get $i))))
      (local.set $ms (f32.add
        (f32.mul (f32.load (i32.add (local.get $m) (local.get $i))) (local.get $b1))
        (f32.mul (local.get $gs) (local.get $c1))))
      (local.set $vs (f32.add
        (f32.mul (f32.load (i32.add (local.get $v) (local.get $i))) (local.get $b2))
        (f32.mul (f32.mul (local.get $gs) (local.get $gs)) (local.get $c2))))
      (f32.store (i32.add (local.get $outM) (local.get $i)) (local.get $ms))
      (f32.store (i32.add (local.get $outV) (local.get $i)) (local.get $vs))
      (f32.store (i32.add (local.get $outW) (local.get $i)) (f32.add
        (f32.mul
          (f32.div
            (f32.div (local.get $ms) (local.get $a1))
            (f32.add (f32.sqrt (f32.div (local.get $vs) (local.get $a2))) (local.get $eps)))
          (local.get $negLr))
        (f32.load (i32.add (local.get $w) (local.get $i)))))
      (local.set $i (i32.add (local.get $i) (i32.const 4)))
      (br $scalars))))
)
