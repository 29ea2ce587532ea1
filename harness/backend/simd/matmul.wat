;; C[M, N] = op(A)[M, K] · op(B)[K, N] (+ bias, then optional ReLU) for float32 tensors in
;; tfjs-backend-wasm's heap: the GEMM behind BatchMatMul and _FusedMatMul, without packing B.
;;
;; op(A)[i, k] is A[i·K + k], or A[k·M + i] when transposeA; op(B)[k, j] is B[k·N + j], or
;; B[j·K + k] when transposeB. Transposes are strides: nothing is transposed or copied, except
;; the panels of B whose 8 columns are not 8 consecutive floats of a row (transposeB, or the last
;; N mod 8 columns), which are copied into `scratch` one panel at a time.
;;
;; Summation order, the same for every element and the same as XNNPACK's f32 GEMM micro-kernels
;; for wasm SIMD (f32-gemm 4x8 / 5x8 / 1x8 "splat", which tfjs-backend-wasm 4.22 runs for
;; fully-connected operators): the accumulator starts at bias[j] (+0 without a bias), then adds
;; op(A)[i, k] · op(B)[k, j] for k = 0, 1, …, K − 1, each product rounded to float32 (f32x4.mul)
;; before it is added (f32x4.add; no FMA, no relaxed SIMD). ReLU is f32x4.pmax(0, acc) at the
;; end, as XNNPACK's x86 minmax kernels clamp (0 < acc ? acc : 0, so NaN becomes 0; its ARM
;; kernels keep NaN). The result is bit-identical to XNNPACK's A·B, whichever operand it packed.
;;
;; Tiling: K in blocks of KC = 256 (a block's panel of B, 256 × 8 floats, stays in L1; the
;; accumulators go to C between blocks and come back exactly, so blocking does not change the
;; order); within a block, each 8-column panel of C, then each 4-row tile of C, accumulated in 8
;; v128 registers (per k: 2 loads of B, 8 mul, 8 add, and op(A)'s 4 values splat from one load
;; per row and 4 k, or from one load when the 4 rows are adjacent floats, else 4 splat loads).
;; A last panel of fewer than 8 columns runs its whole K at once from a zero-padded copy.
;;
;; Split: (scratch, lo, hi) computes rows [lo, hi) of C; every element of C is computed inside
;; one call, in the order above, so any split of the rows gives bit-identical results.
;; Scratch: 32·(K + 1) bytes per call when transposeB or N mod 8 ≠ 0, else none (pass 0).
;; Requires M, K, N > 0. All pointers are byte offsets; hasBias, relu, transposeA/B are 0 or 1.
(module
  (import "env" "memory" (memory 1))

  ;; dst[kk·8 + jj] = src[jj·jStride + kk·kStride] for kk < kn, jj < cols; 0 for cols ≤ jj < 8.
  (func $packPanel
    (param $src i32) (param $jStride i32) (param $kStride i32) (param $cols i32) (param $kn i32)
    (param $dst i32)
    (local $kk i32) (local $jj i32) (local $from i32) (local $to i32)
    (if (i32.lt_u (local.get $cols) (i32.const 8)) (then
      (memory.fill (local.get $dst) (i32.const 0) (i32.shl (local.get $kn) (i32.const 5)))))
    (local.set $kk (i32.const 0))
    (loop $rows
      (local.set $from (i32.add (local.get $src) (i32.mul (local.get $kk) (local.get $kStride))))
      (local.set $to (i32.add (local.get $dst) (i32.shl (local.get $kk) (i32.const 5))))
      (local.set $jj (i32.const 0))
      (loop $cols
        (f32.store (local.get $to) (f32.load (local.get $from)))
        (local.set $from (i32.add (local.get $from) (local.get $jStride)))
        (local.set $to (i32.add (local.get $to) (i32.const 4)))
        (local.set $jj (i32.add (local.get $jj) (i32.const 1)))
        (br_if $cols (i32.lt_u (local.get $jj) (local.get $cols))))
      (local.set $kk (i32.add (local.get $kk) (i32.const 1)))
      (br_if $rows (i32.lt_u (local.get $kk) (local.get $kn)))))

  ;; The first `cols` (< 8) floats of the 8 in (v0, v1) to p, bits unchanged.
  (func $storePartial (param $p i32) (param $v0 v128) (param $v1 v128) (param $cols i32)
    (if (i32.ge_u (local.get $cols) (i32.const 4)) (then
      (v128.store (local.get $p) (local.get $v0))
      (local.set $p (i32.add (local.get $p) (i32.const 16)))
      (local.set $v0 (local.get $v1))))
    (if (i32.and (local.get $cols) (i32.const 2)) (then
      (i64.store (local.get $p) (i64x2.extract_lane 0 (local.get $v0)))
      (local.set $p (i32.add (local.get $p) (i32.const 8)))
      (local.set $v0 (i8x16.shuffle 8 9 10 11 12 13 14 15 8 9 10 11 12 13 14 15
        (local.get $v0) (local.get $v0)))))
    (if (i32.and (local.get $cols) (i32.const 1)) (then
      (i32.store (local.get $p) (i32x4.extract_lane 0 (local.get $v0))))))

  ;; One tile of C: rows (1–4) × cols (1–8) at c, over kn values of k. The accumulators start at
  ;; 0 (init 0), at the 8 floats at bias (init 1) or at C (init 2, cols = 8). Rows past `rows`
  ;; read the last valid row (as XNNPACK does) and are not stored.
  (func $tile
    (param $a i32) (param $aRow i32) (param $aK i32) (param $b i32) (param $bK i32)
    (param $kn i32) (param $c i32) (param $cRow i32) (param $rows i32) (param $cols i32)
    (param $init i32) (param $bias i32) (param $relu i32)
    (local $o1 i32) (local $o2 i32) (local $o3 i32) (local $p1 i32) (local $p2 i32) (local $p3 i32)
    (local $s v128) (local $b0 v128) (local $b1 v128)
    (local $va0 v128) (local $va1 v128) (local $va2 v128) (local $va3 v128)
    (local $c0 v128) (local $c1 v128) (local $c2 v128) (local $c3 v128)
    (local $c4 v128) (local $c5 v128) (local $c6 v128) (local $c7 v128)
    ;; byte offsets of rows 1–3 of A, and addresses of rows 1–3 of C
    (local.set $o1 (select (local.get $aRow) (i32.const 0)
      (i32.gt_u (local.get $rows) (i32.const 1))))
    (local.set $o2 (select (i32.shl (local.get $aRow) (i32.const 1)) (local.get $o1)
      (i32.gt_u (local.get $rows) (i32.const 2))))
    (local.set $o3 (select (i32.mul (local.get $aRow) (i32.const 3)) (local.get $o2)
      (i32.gt_u (local.get $rows) (i32.const 3))))
    (local.set $p1 (i32.add (local.get $c)
      (select (local.get $cRow) (i32.const 0) (i32.gt_u (local.get $rows) (i32.const 1)))))
    (local.set $p2 (select (i32.add (local.get $p1) (local.get $cRow)) (local.get $p1)
      (i32.gt_u (local.get $rows) (i32.const 2))))
    (local.set $p3 (select (i32.add (local.get $p2) (local.get $cRow)) (local.get $p2)
      (i32.gt_u (local.get $rows) (i32.const 3))))
    (if (i32.eq (local.get $init) (i32.const 2))
      (then
        (local.set $c0 (v128.load (local.get $c)))
        (local.set $c1 (v128.load offset=16 (local.get $c)))
        (local.set $c2 (v128.load (local.get $p1)))
        (local.set $c3 (v128.load offset=16 (local.get $p1)))
        (local.set $c4 (v128.load (local.get $p2)))
        (local.set $c5 (v128.load offset=16 (local.get $p2)))
        (local.set $c6 (v128.load (local.get $p3)))
        (local.set $c7 (v128.load offset=16 (local.get $p3))))
      (else
        (if (local.get $init) (then
          (local.set $c0 (v128.load (local.get $bias)))
          (local.set $c1 (v128.load offset=16 (local.get $bias)))))
        ;; (v128 locals start at 0: +0 without a bias)
        (local.set $c2 (local.get $c0)) (local.set $c3 (local.get $c1))
        (local.set $c4 (local.get $c0)) (local.set $c5 (local.get $c1))
        (local.set $c6 (local.get $c0)) (local.set $c7 (local.get $c1))))
    ;; A not transposed: 4 values of k of each row in one load, splat by shuffles (as XNNPACK's
    ;; splat kernels load A)
    (if (i32.eq (local.get $aK) (i32.const 4)) (then
      (block $quadsDone (loop $quads
        (br_if $quadsDone (i32.lt_u (local.get $kn) (i32.const 4)))
        (local.set $va0 (v128.load (local.get $a)))
        (local.set $va1 (v128.load (i32.add (local.get $a) (local.get $o1))))
        (local.set $va2 (v128.load (i32.add (local.get $a) (local.get $o2))))
        (local.set $va3 (v128.load (i32.add (local.get $a) (local.get $o3))))
        (local.set $b0 (v128.load (local.get $b)))
        (local.set $b1 (v128.load offset=16 (local.get $b)))
        (local.set $b (i32.add (local.get $b) (local.get $bK)))
        (local.set $s (i8x16.shuffle 0 1 2 3 0 1 2 3 0 1 2 3 0 1 2 3
            (local.get $va0) (local.get $va0)))
        (local.set $c0 (f32x4.add (local.get $c0) (f32x4.mul (local.get $s) (local.get $b0))))
        (local.set $c1 (f32x4.add (local.get $c1) (f32x4.mul (local.get $s) (local.get $b1))))
        (local.set $s (i8x16.shuffle 0 1 2 3 0 1 2 3 0 1 2 3 0 1 2 3
            (local.get $va1) (local.get $va1)))
        (local.set $c2 (f32x4.add (local.get $c2) (f32x4.mul (local.get $s) (local.get $b0))))
        (local.set $c3 (f32x4.add (local.get $c3) (f32x4.mul (local.get $s) (local.get $b1))))
        (local.set $s (i8x16.shuffle 0 1 2 3 0 1 2 3 0 1 2 3 0 1 2 3
            (local.get $va2) (local.get $va2)))
        (local.set $c4 (f32x4.add (local.get $c4) (f32x4.mul (local.get $s) (local.get $b0))))
        (local.set $c5 (f32x4.add (local.get $c5) (f32x4.mul (local.get $s) (local.get $b1))))
        (local.set $s (i8x16.shuffle 0 1 2 3 0 1 2 3 0 1 2 3 0 1 2 3
            (local.get $va3) (local.get $va3)))
        (local.set $c6 (f32x4.add (local.get $c6) (f32x4.mul (local.get $s) (local.get $b0))))
        (local.set $c7 (f32x4.add (local.get $c7) (f32x4.mul (local.get $s) (local.get $b1))))
        (local.set $b0 (v128.load (local.get $b)))
        (local.set $b1 (v128.load offset=16 (local.get $b)))
        (local.set $b (i32.add (local.get $b) (local.get $bK)))
        (local.set $s (i8x16.shuffle 4 5 6 7 4 5 6 7 4 5 6 7 4 5 6 7
            (local.get $va0) (local.get $va0)))
        (local.set $c0 (f32x4.add (local.get $c0) (f32x4.mul (local.get $s) (local.get $b0))))
        (local.set $c1 (f32x4.add (local.get $c1) (f32x4.mul (local.get $s) (local.get $b1))))
        (local.set $s (i8x16.shuffle 4 5 6 7 4 5 6 7 4 5 6 7 4 5 6 7
            (local.get $va1) (local.get $va1)))
        (local.set $c2 (f32x4.add (local.get $c2) (f32x4.mul (local.get $s) (local.get $b0))))
        (local.set $c3 (f32x4.add (local.get $c3) (f32x4.mul (local.get $s) (local.get $b1))))
        (local.set $s (i8x16.shuffle 4 5 6 7 4 5 6 7 4 5 6 7 4 5 6 7
            (local.get $va2) (local.get $va2)))
        (local.set $c4 (f32x4.add (local.get $c4) (f32x4.mul (local.get $s) (local.get $b0))))
        (local.set $c5 (f32x4.add (local.get $c5) (f32x4.mul (local.get $s) (local.get $b1))))
        (local.set $s (i8x16.shuffle 4 5 6 7 4 5 6 7 4 5 6 7 4 5 6 7
            (local.get $va3) (local.get $va3)))
        (local.set $c6 (f32x4.add (local.get $c6) (f32x4.mul (local.get $s) (local.get $b0))))
        (local.set $c7 (f32x4.add (local.get $c7) (f32x4.mul (local.get $s) (local.get $b1))))
        (local.set $b0 (v128.load (local.get $b)))
        (local.set $b1 (v128.load offset=16 (local.get $b)))
        (local.set $b (i32.add (local.get $b) (local.get $bK)))
        (local.set $s (i8x16.shuffle 8 9 10 11 8 9 10 11 8 9 10 11 8 9 10 11
            (local.get $va0) (local.get $va0)))
        (local.set $c0 (f32x4.add (local.get $c0) (f32x4.mul (local.get $s) (local.get $b0))))
        (local.set $c1 (f32x4.add (local.get $c1) (f32x4.mul (local.get $s) (local.get $b1))))
        (local.set $s (i8x16.shuffle 8 9 10 11 8 9 10 11 8 9 10 11 8 9 10 11
            (local.get $va1) (local.get $va1)))
        (local.set $c2 (f32x4.add (local.get $c2) (f32x4.mul (local.get $s) (local.get $b0))))
        (local.set $c3 (f32x4.add (local.get $c3) (f32x4.mul (local.get $s) (local.get $b1))))
        (local.set $s (i8x16.shuffle 8 9 10 11 8 9 10 11 8 9 10 11 8 9 10 11
            (local.get $va2) (local.get $va2)))
        (local.set $c4 (f32x4.add (local.get $c4) (f32x4.mul (local.get $s) (local.get $b0))))
        (local.set $c5 (f32x4.add (local.get $c5) (f32x4.mul (local.get $s) (local.get $b1))))
        (local.set $s (i8x16.shuffle 8 9 10 11 8 9 10 11 8 9 10 11 8 9 10 11
            (local.get $va3) (local.get $va3)))
        (local.set $c6 (f32x4.add (local.get $c6) (f32x4.mul (local.get $s) (local.get $b0))))
        (local.set $c7 (f32x4.add (local.get $c7) (f32x4.mul (local.get $s) (local.get $b1))))
        (local.set $b0 (v128.load (local.get $b)))
        (local.set $b1 (v128.load offset=16 (local.get $b)))
        (local.set $b (i32.add (local.get $b) (local.get $bK)))
        (local.set $s (i8x16.shuffle 12 13 14 15 12 13 14 15 12 13 14 15 12 13 14 15
            (local.get $va0) (local.get $va0)))
        (local.set $c0 (f32x4.add (local.get $c0) (f32x4.mul (local.get $s) (local.get $b0))))
        (local.set $c1 (f32x4.add (local.get $c1) (f32x4.mul (local.get $s) (local.get $b1))))
        (local.set $s (i8x16.shuffle 12 13 14 15 12 13 14 15 12 13 14 15 12 13 14 15
            (local.get $va1) (local.get $va1)))
        (local.set $c2 (f32x4.add (local.get $c2) (f32x4.mul (local.get $s) (local.get $b0))))
        (local.set $c3 (f32x4.add (local.get $c3) (f32x4.mul (local.get $s) (local.get $b1))))
        (local.set $s (i8x16.shuffle 12 13 14 15 12 13 14 15 12 13 14 15 12 13 14 15
            (local.get $va2) (local.get $va2)))
        (local.set $c4 (f32x4.add (local.get $c4) (f32x4.mul (local.get $s) (local.get $b0))))
        (local.set $c5 (f32x4.add (local.get $c5) (f32x4.mul (local.get $s) (local.get $b1))))
        (local.set $s (i8x16.shuffle 12 13 14 15 12 13 14 15 12 13 14 15 12 13 14 15
            (local.get $va3) (local.get $va3)))
        (local.set $c6 (f32x4.add (local.get $c6) (f32x4.mul (local.get $s) (local.get $b0))))
        (local.set $c7 (f32x4.add (local.get $c7) (f32x4.mul (local.get $s) (local.get $b1))))
        (local.set $a (i32.add (local.get $a) (i32.const 16)))
        (local.set $kn (i32.sub (local.get $kn) (i32.const 4)))
        (br $quads)))))
    ;; 4 rows 4 bytes apart (a transposed A): their values at one k are 4 consecutive floats
    (if (i32.and (i32.and (i32.eq (local.get $aRow) (i32.const 4))
          (i32.eq (local.get $rows) (i32.const 4)))
        (i32.ne (local.get $kn) (i32.const 0)))
      (then (loop $transposed
        (local.set $b0 (v128.load (local.get $b)))
        (local.set $b1 (v128.load offset=16 (local.get $b)))
        (local.set $va0 (v128.load (local.get $a)))
        (local.set $s (i8x16.shuffle 0 1 2 3 0 1 2 3 0 1 2 3 0 1 2 3
            (local.get $va0) (local.get $va0)))
        (local.set $c0 (f32x4.add (local.get $c0) (f32x4.mul (local.get $s) (local.get $b0))))
        (local.set $c1 (f32x4.add (local.get $c1) (f32x4.mul (local.get $s) (local.get $b1))))
        (local.set $s (i8x16.shuffle 4 5 6 7 4 5 6 7 4 5 6 7 4 5 6 7
            (local.get $va0) (local.get $va0)))
        (local.set $c2 (f32x4.add (local.get $c2) (f32x4.mul (local.get $s) (local.get $b0))))
        (local.set $c3 (f32x4.add (local.get $c3) (f32x4.mul (local.get $s) (local.get $b1))))
        (local.set $s (i8x16.shuffle 8 9 10 11 8 9 10 11 8 9 10 11 8 9 10 11
            (local.get $va0) (local.get $va0)))
        (local.set $c4 (f32x4.add (local.get $c4) (f32x4.mul (local.get $s) (local.get $b0))))
        (local.set $c5 (f32x4.add (local.get $c5) (f32x4.mul (local.get $s) (local.get $b1))))
        (local.set $s (i8x16.shuffle 12 13 14 15 12 13 14 15 12 13 14 15 12 13 14 15
            (local.get $va0) (local.get $va0)))
        (local.set $c6 (f32x4.add (local.get $c6) (f32x4.mul (local.get $s) (local.get $b0))))
        (local.set $c7 (f32x4.add (local.get $c7) (f32x4.mul (local.get $s) (local.get $b1))))
        (local.set $a (i32.add (local.get $a) (local.get $aK)))
        (local.set $b (i32.add (local.get $b) (local.get $bK)))
        (local.set $kn (i32.sub (local.get $kn) (i32.const 1)))
        (br_if $transposed (local.get $kn)))))
    ;; the rest (the last k mod 4 of an untransposed A, fewer than 4 rows of a transposed one): one
    ;; splat load per row and k
    (if (local.get $kn) (then (loop $k
        (local.set $b0 (v128.load (local.get $b)))
        (local.set $b1 (v128.load offset=16 (local.get $b)))
        (local.set $s (v128.load32_splat (local.get $a)))
        (local.set $c0 (f32x4.add (local.get $c0) (f32x4.mul (local.get $s) (local.get $b0))))
        (local.set $c1 (f32x4.add (local.get $c1) (f32x4.mul (local.get $s) (local.get $b1))))
        (local.set $s (v128.load32_splat (i32.add (local.get $a) (local.get $o1))))
        (local.set $c2 (f32x4.add (local.get $c2) (f32x4.mul (local.get $s) (local.get $b0))))
        (local.set $c3 (f32x4.add (local.get $c3) (f32x4.mul (local.get $s) (local.get $b1))))
        (local.set $s (v128.load32_splat (i32.add (local.get $a) (local.get $o2))))
        (local.set $c4 (f32x4.add (local.get $c4) (f32x4.mul (local.get $s) (local.get $b0))))
        (local.set $c5 (f32x4.add (local.get $c5) (f32x4.mul (local.get $s) (local.get $b1))))
        (local.set $s (v128.load32_splat (i32.add (local.get $a) (local.get $o3))))
        (local.set $c6 (f32x4.add (local.get $c6) (f32x4.mul (local.get $s) (local.get $b0))))
        (local.set $c7 (f32x4.add (local.get $c7) (f32x4.mul (local.get $s) (local.get $b1))))
        (local.set $a (i32.add (local.get $a) (local.get $aK)))
        (local.set $b (i32.add (local.get $b) (local.get $bK)))
        (local.set $kn (i32.sub (local.get $kn) (i32.const 1)))
        (br_if $k (local.get $kn)))))
    (if (local.get $relu) (then
      (local.set $s (v128.const i64x2 0 0))
      (local.set $c0 (f32x4.pmax (local.get $s) (local.get $c0)))
      (local.set $c1 (f32x4.pmax (local.get $s) (local.get $c1)))
      (local.set $c2 (f32x4.pmax (local.get $s) (local.get $c2)))
      (local.set $c3 (f32x4.pmax (local.get $s) (local.get $c3)))
      (local.set $c4 (f32x4.pmax (local.get $s) (local.get $c4)))
      (local.set $c5 (f32x4.pmax (local.get $s) (local.get $c5)))
      (local.set $c6 (f32x4.pmax (local.get $s) (local.get $c6)))
      (local.set $c7 (f32x4.pmax (local.get $s) (local.get $c7)))))
    (if (i32.eq (local.get $cols) (i32.const 8))
      (then
        (v128.store (local.get $c) (local.get $c0))
        (v128.store offset=16 (local.get $c) (local.get $c1))
        (if (i32.gt_u (local.get $rows) (i32.const 1)) (then
          (v128.store (local.get $p1) (local.get $c2))
          (v128.store offset=16 (local.get $p1) (local.get $c3))))
        (if (i32.gt_u (local.get $rows) (i32.const 2)) (then
          (v128.store (local.get $p2) (local.get $c4))
          (v128.store offset=16 (local.get $p2) (local.get $c5))))
        (if (i32.gt_u (local.get $rows) (i32.const 3)) (then
          (v128.store (local.get $p3) (local.get $c6))
          (v128.store offset=16 (local.get $p3) (local.get $c7)))))
      (else
        (call $storePartial (local.get $c) (local.get $c0) (local.get $c1) (local.get $cols))
        (if (i32.gt_u (local.get $rows) (i32.const 1)) (then
          (call $storePartial (local.get $p1) (local.get $c2) (local.get $c3) (local.get $cols))))
        (if (i32.gt_u (local.get $rows) (i32.const 2)) (then
          (call $storePartial (local.get $p2) (local.get $c4) (local.get $c5) (local.get $cols))))
        (if (i32.gt_u (local.get $rows) (i32.const 3)) (then
          (call $storePartial (local.get $p3) (local.get $c6) (local.get $c7)
            (local.get $cols)))))))

  (func (export "matmul")
    (param $a i32) (param $b i32) (param $bias i32) (param $c i32)
    (param $m i32) (param $k i32) (param $n i32)
    (param $transposeA i32) (param $transposeB i32) (param $hasBias i32) (param $relu i32)
    (param $scratch i32) (param $lo i32) (param $hi i32)
    (local $aRow i32) (local $aK i32) (local $bJ i32) (local $bK i32) (local $cRow i32)
    (local $k0 i32) (local $kn i32) (local $j0 i32) (local $cols i32) (local $i0 i32)
    (local $pk0 i32) (local $pkn i32) (local $last i32) (local $panel i32) (local $panelK i32)
    (local $biasAt i32) (local $init i32) (local $rows i32)
    (if (i32.ge_s (local.get $lo) (local.get $hi)) (then (return)))
    ;; byte strides of op(A) along i and k, of op(B) along j and k, of C along i
    (local.set $aRow (select (i32.const 4) (i32.shl (local.get $k) (i32.const 2))
      (local.get $transposeA)))
    (local.set $aK (select (i32.shl (local.get $m) (i32.const 2)) (i32.const 4)
      (local.get $transposeA)))
    (local.set $bJ (select (i32.shl (local.get $k) (i32.const 2)) (i32.const 4)
      (local.get $transposeB)))
    (local.set $bK (select (i32.const 4) (i32.shl (local.get $n) (i32.const 2))
      (local.get $transposeB)))
    (local.set $cRow (i32.shl (local.get $n) (i32.const 2)))
    (local.set $k0 (i32.const 0))
    (loop $kBlocks
      (local.set $kn (i32.sub (local.get $k) (local.get $k0)))
      (if (i32.gt_u (local.get $kn) (i32.const 256)) (then (local.set $kn (i32.const 256))))
      (local.set $j0 (i32.const 0))
      (loop $panels
        (local.set $cols (i32.sub (local.get $n) (local.get $j0)))
        (if (i32.gt_u (local.get $cols) (i32.const 8)) (then (local.set $cols (i32.const 8))))
        (block $skip
          (if (i32.lt_u (local.get $cols) (i32.const 8))
            (then
              ;; the last, narrow panel: all of K at once (in the first block), zero-padded
              (br_if $skip (local.get $k0))
              (local.set $pk0 (i32.const 0))
              (local.set $pkn (local.get $k))
              (local.set $last (i32.const 1))
              (call $packPanel (i32.add (local.get $b) (i32.mul (local.get $j0) (local.get $bJ)))
                (local.get $bJ) (local.get $bK) (local.get $cols) (local.get $k)
                (local.get $scratch))
              (local.set $panel (local.get $scratch))
              (local.set $panelK (i32.const 32))
              ;; its bias, zero-padded to 8 floats, after the panel
              (local.set $biasAt (i32.add (local.get $scratch)
                (i32.shl (local.get $k) (i32.const 5))))
              (if (local.get $hasBias) (then
                (call $packPanel (i32.add (local.get $bias) (i32.shl (local.get $j0) (i32.const 2)))
                  (i32.const 4) (i32.const 0) (local.get $cols) (i32.const 1)
                  (local.get $biasAt)))))
            (else
              (local.set $pk0 (local.get $k0))
              (local.set $pkn (local.get $kn))
              (local.set $last (i32.eq (i32.add (local.get $k0) (local.get $kn)) (local.get $k)))
              (local.set $biasAt (i32.add (local.get $bias)
                (i32.shl (local.get $j0) (i32.const 2))))
              (if (local.get $transposeB)
                (then
                  (call $packPanel (i32.add (local.get $b) (i32.add
                      (i32.mul (local.get $j0) (local.get $bJ))
                      (i32.mul (local.get $k0) (local.get $bK))))
                    (local.get $bJ) (local.get $bK) (i32.const 8) (local.get $kn)
                    (local.get $scratch))
                  (local.set $panel (local.get $scratch))
                  (local.set $panelK (i32.const 32)))
                (else
                  (local.set $panel (i32.add (local.get $b) (i32.shl (i32.add
                    (i32.mul (local.get $k0) (local.get $n)) (local.get $j0)) (i32.const 2))))
                  (local.set $panelK (local.get $bK))))))
          (local.set $init (select (i32.const 2) (local.get $hasBias) (local.get $pk0)))
          (local.set $i0 (local.get $lo))
          (loop $rowTiles
            (local.set $rows (i32.sub (local.get $hi) (local.get $i0)))
            (if (i32.gt_u (local.get $rows) (i32.const 4)) (then (local.set $rows (i32.const 4))))
            (call $tile
              (i32.add (local.get $a) (i32.add (i32.mul (local.get $i0) (local.get $aRow))
                (i32.mul (local.get $pk0) (local.get $aK))))
              (local.get $aRow) (local.get $aK) (local.get $panel) (local.get $panelK)
              (local.get $pkn)
              (i32.add (local.get $c) (i32.shl (i32.add (i32.mul (local.get $i0) (local.get $n))
                (local.get $j0)) (i32.const 2)))
              (local.get $cRow) (local.get $rows) (local.get $cols) (local.get $init)
              (local.get $biasAt) (i32.and (local.get $relu) (local.get $last)))
            (local.set $i0 (i32.add (local.get $i0) (i32.const 4)))
            (br_if $rowTiles (i32.lt_s (local.get $i0) (local.get $hi)))))
        (local.set $j0 (i32.add (local.get $j0) (i32.const 8)))
        (br_if $panels (i32.lt_u (local.get $j0) (local.get $n))))
      (local.set $k0 (i32.add (local.get $k0) (local.get $kn)))
      (br_if $kBlocks (i32.lt_u (local.get $k0) (local.get $k)))))
)
