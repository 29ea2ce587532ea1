;; y = Conv2D(x, W) and dx = Conv2DBackpropInput(dy, W) for NHWC float32 tensors in
;; tfjs-backend-wasm's heap, summing in the order XNNPACK's f32 IGEMM micro-kernels do, so the
;; results are bit-identical to the backend's XNNPACK convolution (and to claimcheck's
;; phase-filter rewrite of Conv2DBackpropInput, which runs on it).
;;
;; XNNPACK's order (tfjs-backend-wasm 4.22 pins google/XNNPACK 5e8033a; src/operators/
;; convolution-nhwc.c, src/indirection.c, src/packing.c, src/f32-igemm/gen/4x8-*wasmsimd*splat.c):
;; each output starts from its bias (zero when there is none) and adds the products of the
;; reduction index k = (kh, kw, c) one k at a time, in order, with separate f32x4.mul and
;; f32x4.add (no FMA); taps outside the image read a zero row. ReLU is `i32x4.max_s(acc, 0)` on
;; the bits (XNNPACK's relu micro-kernel; it also maps −0 to +0); linear applies nothing.
;;
;; Both exports build, for a tile of 4 outputs (positions or dx pixels), their operand rows
;; interleaved in `scratch` as A[k][4] (zero where a tap falls outside the input), then call
;; $tile for every 8 channels: 8 v128 accumulators, per k 2 loads of B, 4 splat loads of A, 8 mul
;; and 8 add. The last 8-channel tile overlaps the one before when channels % 8 ≠ 0 (an output
;; is computed the same way in either tile). Every output is computed inside one call, in the
;; order above, whatever the call's range: any split of [0, total) gives identical results.
;; All pointers are byte offsets.
(module
  (import "env" "memory" (memory 1))

  ;; out[r, j] = act(init[j] + Σ_k a[k][r] · b[k][j]) for r < rows, j < 8, with b's row k
  ;; at b + k·bStride; init = bias[0..8) where flags & 1, else 0; act = ReLU where flags & 2.
  (func $tile
    (param $a i32) (param $b i32) (param $bStride i32) (param $K i32)
    (param $bias i32) (param $flags i32)
    (param $out i32) (param $outStride i32) (param $rows i32)
    (local $end i32) (local $end2 i32) (local $s v128) (local $b0 v128) (local $b1 v128)
    (local $c0 v128) (local $c1 v128) (local $c2 v128) (local $c3 v128)
    (local $c4 v128) (local $c5 v128) (local $c6 v128) (local $c7 v128)
    (if (i32.and (local.get $flags) (i32.const 1)) (then
      (local.set $c0 (v128.load (local.get $bias)))
      (local.set $c1 (v128.load offset=16 (local.get $bias)))))
    (local.set $c2 (local.get $c0)) (local.set $c3 (local.get $c1))
    (local.set $c4 (local.get $c0)) (local.set $c5 (local.get $c1))
    (local.set $c6 (local.get $c0)) (local.set $c7 (local.get $c1))
    ;; two k per iteration (a few % faster than one), then an odd K's last k
    (local.set $end (i32.add (local.get $a) (i32.shl (local.get $K) (i32.const 4))))
    (local.set $end2 (i32.add (local.get $a)
      (i32.shl (i32.and (local.get $K) (i32.const -2)) (i32.const 4))))
    (if (i32.lt_u (local.get $a) (local.get $end2)) (then (loop $k2
      (local.set $b0 (v128.load (local.get $b)))
      (local.set $b1 (v128.load offset=16 (local.get $b)))
      (local.set $s (v128.load32_splat (local.get $a)))
      (local.set $c0 (f32x4.add (local.get $c0) (f32x4.mul (local.get $s) (local.get $b0))))
      (local.set $c1 (f32x4.add (local.get $c1) (f32x4.mul (local.get $s) (local.get $b1))))
      (local.set $s (v128.load32_splat offset=4 (local.get $a)))
      (local.set $c2 (f32x4.add (local.get $c2) (f32x4.mul (local.get $s) (local.get $b0))))
      (local.set $c3 (f32x4.add (local.get $c3) (f32x4.mul (local.get $s) (local.get $b1))))
      (local.set $s (v128.load32_splat offset=8 (local.get $a)))
      (local.set $c4 (f32x4.add (local.get $c4) (f32x4.mul (local.get $s) (local.get $b0))))
      (local.set $c5 (f32x4.add (local.get $c5) (f32x4.mul (local.get $s) (local.get $b1))))
      (local.set $s (v128.load32_splat offset=12 (local.get $a)))
      (local.set $c6 (f32x4.add (local.get $c6) (f32x4.mul (local.get $s) (local.get $b0))))
      (local.set $c7 (f32x4.add (local.get $c7) (f32x4.mul (local.get $s) (local.get $b1))))
      (local.set $b0 (v128.load (i32.add (local.get $b) (local.get $bStride))))
      (local.set $b1 (v128.load offset=16 (i32.add (local.get $b) (local.get $bStride))))
      (local.set $s (v128.load32_splat offset=16 (local.get $a)))
      (local.set $c0 (f32x4.add (local.get $c0) (f32x4.mul (local.get $s) (local.get $b0))))
      (local.set $c1 (f32x4.add (local.get $c1) (f32x4.mul (local.get $s) (local.get $b1))))
      (local.set $s (v128.load32_splat offset=20 (local.get $a)))
      (local.set $c2 (f32x4.add (local.get $c2) (f32x4.mul (local.get $s) (local.get $b0))))
      (local.set $c3 (f32x4.add (local.get $c3) (f32x4.mul (local.get $s) (local.get $b1))))
      (local.set $s (v128.load32_splat offset=24 (local.get $a)))
      (local.set $c4 (f32x4.add (local.get $c4) (f32x4.mul (local.get $s) (local.get $b0))))
      (local.set $c5 (f32x4.add (local.get $c5) (f32x4.mul (local.get $s) (local.get $b1))))
      (local.set $s (v128.load32_splat offset=28 (local.get $a)))
      (local.set $c6 (f32x4.add (local.get $c6) (f32x4.mul (local.get $s) (local.get $b0))))
      (local.set $c7 (f32x4.add (local.get $c7) (f32x4.mul (local.get $s) (local.get $b1))))
      (local.set $a (i32.add (local.get $a) (i32.const 32)))
      (local.set $b (i32.add (local.get $b) (i32.shl (local.get $bStride) (i32.const 1))))
      (br_if $k2 (i32.lt_u (local.get $a) (local.get $end2))))))
    (if (i32.lt_u (local.get $a) (local.get $end)) (then
      (local.set $b0 (v128.load (local.get $b)))
      (local.set $b1 (v128.load offset=16 (local.get $b)))
      (local.set $s (v128.load32_splat (local.get $a)))
      (local.set $c0 (f32x4.add (local.get $c0) (f32x4.mul (local.get $s) (local.get $b0))))
      (local.set $c1 (f32x4.add (local.get $c1) (f32x4.mul (local.get $s) (local.get $b1))))
      (local.set $s (v128.load32_splat offset=4 (local.get $a)))
      (local.set $c2 (f32x4.add (local.get $c2) (f32x4.mul (local.get $s) (local.get $b0))))
      (local.set $c3 (f32x4.add (local.get $c3) (f32x4.mul (local.get $s) (local.get $b1))))
      (local.set $s (v128.load32_splat offset=8 (local.get $a)))
      (local.set $c4 (f32x4.add (local.get $c4) (f32x4.mul (local.get $s) (local.get $b0))))
      (local.set $c5 (f32x4.add (local.get $c5) (f32x4.mul (local.get $s) (local.get $b1))))
      (local.set $s (v128.load32_splat offset=12 (local.get $a)))
      (local.set $c6 (f32x4.add (local.get $c6) (f32x4.mul (local.get $s) (local.get $b0))))
      (local.set $c7 (f32x4.add (local.get $c7) (f32x4.mul (local.get $s) (local.get $b1))))))
    (if (i32.and (local.get $flags) (i32.const 2)) (then
      (local.set $s (v128.const i64x2 0 0))
      (local.set $c0 (i32x4.max_s (local.get $c0) (local.get $s)))
      (local.set $c1 (i32x4.max_s (local.get $c1) (local.get $s)))
      (local.set $c2 (i32x4.max_s (local.get $c2) (local.get $s)))
      (local.set $c3 (i32x4.max_s (local.get $c3) (local.get $s)))
      (local.set $c4 (i32x4.max_s (local.get $c4) (local.get $s)))
      (local.set $c5 (i32x4.max_s (local.get $c5) (local.get $s)))
      (local.set $c6 (i32x4.max_s (local.get $c6) (local.get $s)))
      (local.set $c7 (i32x4.max_s (local.get $c7) (local.get $s)))))
    (v128.store (local.get $out) (local.get $c0))
    (v128.store offset=16 (local.get $out) (local.get $c1))
    (if (i32.gt_u (local.get $rows) (i32.const 1)) (then
      (local.set $out (i32.add (local.get $out) (local.get $outStride)))
      (v128.store (local.get $out) (local.get $c2))
      (v128.store offset=16 (local.get $out) (local.get $c3))))
    (if (i32.gt_u (local.get $rows) (i32.const 2)) (then
      (local.set $out (i32.add (local.get $out) (local.get $outStride)))
      (v128.store (local.get $out) (local.get $c4))
      (v128.store offset=16 (local.get $out) (local.get $c5))))
    (if (i32.gt_u (local.get $rows) (i32.const 3)) (then
      (local.set $out (i32.add (local.get $out) (local.get $outStride)))
      (v128.store (local.get $out) (local.get $c6))
      (v128.store offset=16 (local.get $out) (local.get $c7)))))

  ;; dst[k][q] = p_q[k] for k < count, q < 4: the 4 rows p0 .. p3 of `count` floats each, one
  ;; interleaved tile column block (a row outside the input points at zeros). 4 × 4 transposes
  ;; when count % 4 = 0. Loops, not memory.copy: V8 calls out of line for that.
  (func $gather4 (param $p0 i32) (param $p1 i32) (param $p2 i32) (param $p3 i32)
    (param $dst i32) (param $count i32)
    (local $end i32) (local $r0 v128) (local $r1 v128) (local $r2 v128) (local $r3 v128)
    (local $t0 v128) (local $t1 v128)
    (local.set $end (i32.add (local.get $dst) (i32.shl (local.get $count) (i32.const 4))))
    (if (i32.and (local.get $count) (i32.const 3)) (then
      (loop $one
        (v128.store (local.get $dst) (f32x4.replace_lane 3 (f32x4.replace_lane 2
          (f32x4.replace_lane 1 (f32x4.splat (f32.load (local.get $p0)))
          (f32.load (local.get $p1))) (f32.load (local.get $p2))) (f32.load (local.get $p3))))
        (local.set $p0 (i32.add (local.get $p0) (i32.const 4)))
        (local.set $p1 (i32.add (local.get $p1) (i32.const 4)))
        (local.set $p2 (i32.add (local.get $p2) (i32.const 4)))
        (local.set $p3 (i32.add (local.get $p3) (i32.const 4)))
        (local.set $dst (i32.add (local.get $dst) (i32.const 16)))
        (br_if $one (i32.lt_u (local.get $dst) (local.get $end))))
      (return)))
    (loop $four
      (local.set $r0 (v128.load (local.get $p0)))
      (local.set $r1 (v128.load (local.get $p1)))
      (local.set $r2 (v128.load (local.get $p2)))
      (local.set $r3 (v128.load (local.get $p3)))
      ;; (p0[k], p1[k], p0[k+1], p1[k+1]) and (p2[k], p3[k], p2[k+1], p3[k+1])
      (local.set $t0 (i8x16.shuffle 0 1 2 3 16 17 18 19 4 5 6 7 20 21 22 23
        (local.get $r0) (local.get $r1)))
      (local.set $t1 (i8x16.shuffle 0 1 2 3 16 17 18 19 4 5 6 7 20 21 22 23
        (local.get $r2) (local.get $r3)))
      (v128.store (local.get $dst) (i8x16.shuffle 0 1 2 3 4 5 6 7 16 17 18 19 20 21 22 23
        (local.get $t0) (local.get $t1)))
      (v128.store offset=16 (local.get $dst) (i8x16.shuffle 8 9 10 11 12 13 14 15 24 25 26 27
        28 29 30 31 (local.get $t0) (local.get $t1)))
      ;; the same for k + 2, k + 3
      (local.set $t0 (i8x16.shuffle 8 9 10 11 24 25 26 27 12 13 14 15 28 29 30 31
        (local.get $r0) (local.get $r1)))
      (local.set $t1 (i8x16.shuffle 8 9 10 11 24 25 26 27 12 13 14 15 28 29 30 31
        (local.get $r2) (local.get $r3)))
      (v128.store offset=32 (local.get $dst) (i8x16.shuffle 0 1 2 3 4 5 6 7 16 17 18 19 20 21
        22 23 (local.get $t0) (local.get $t1)))
      (v128.store offset=48 (local.get $dst) (i8x16.shuffle 8 9 10 11 12 13 14 15 24 25 26 27
        28 29 30 31 (local.get $t0) (local.get $t1)))
      (local.set $p0 (i32.add (local.get $p0) (i32.const 16)))
      (local.set $p1 (i32.add (local.get $p1) (i32.const 16)))
      (local.set $p2 (i32.add (local.get $p2) (i32.const 16)))
      (local.set $p3 (i32.add (local.get $p3) (i32.const 16)))
      (local.set $dst (i32.add (local.get $dst) (i32.const 64)))
      (br_if $four (i32.lt_u (local.get $dst) (local.get $end)))))

  ;; How many of 0 .. f − 1 are ≡ a (mod s), for a < s.
  (func $classSize (param $f i32) (param $s i32) (param $a i32) (result i32)
    (if (result i32) (i32.lt_u (local.get $a) (local.get $f))
      (then (i32.add (i32.div_u (i32.sub (i32.sub (local.get $f) (i32.const 1)) (local.get $a))
        (local.get $s)) (i32.const 1)))
      (else (i32.const 0))))

  ;; y[p, o] = act(bias[o] + Σ over (kh, kw, c) of x[b, oy·sh + kh − pt, ox·sw + kw − pl, c] ·
  ;; W[kh, kw, c, o]) for the output positions p = (b, oy, ox) in [lo, hi), row-major; x is zero
  ;; outside the image. W [fh, fw, ci, co] is read in place as the [R = fh·fw·ci, co] operand.
  ;; flags: 1 = add bias (co floats), 2 = ReLU. Requires co ≥ 8.
  ;; Scratch: 16·R + 4·ci + 80 bytes (the tile, a row of zeros, the tile rows' windows).
  (func (export "conv2d")
    (param $x i32) (param $w i32) (param $bias i32) (param $y i32)
    (param $n i32) (param $h i32) (param $wd i32) (param $ci i32)
    (param $oh i32) (param $ow i32) (param $co i32)
    (param $fh i32) (param $fw i32) (param $sh i32) (param $sw i32)
    (param $pt i32) (param $pl i32) (param $flags i32)
    (param $scratch i32) (param $lo i32) (param $hi i32)
    (local $R i32) (local $ciBytes i32) (local $rowBytes i32) (local $coStride i32)
    (local $zero i32) (local $info i32) (local $p0 i32) (local $rows i32) (local $q i32)
    (local $t i32) (local $b i32) (local $oy i32) (local $ox i32) (local $kh i32) (local $kw i32)
    (local $dst i32) (local $cb i32) (local $c i32)
    (local $ix0 i32) (local $ix1 i32) (local $ix2 i32) (local $ix3 i32)
    (local $ok0 i32) (local $ok1 i32) (local $ok2 i32) (local $ok3 i32)
    (local $r0 i32) (local $r1 i32) (local $r2 i32) (local $r3 i32)
    (local.set $R (i32.mul (i32.mul (local.get $fh) (local.get $fw)) (local.get $ci)))
    (local.set $ciBytes (i32.shl (local.get $ci) (i32.const 2)))
    (local.set $rowBytes (i32.mul (local.get $wd) (local.get $ciBytes)))
    (local.set $coStride (i32.shl (local.get $co) (i32.const 2)))
    (local.set $zero (i32.add (local.get $scratch) (i32.shl (local.get $R) (i32.const 4))))
    (local.set $info (i32.add (i32.add (local.get $zero) (local.get $ciBytes)) (i32.const 16)))
    (memory.fill (local.get $zero) (i32.const 0) (local.get $ciBytes))
    (local.set $ox (i32.rem_u (local.get $lo) (local.get $ow)))
    (local.set $oy (i32.div_u (local.get $lo) (local.get $ow)))
    (local.set $b (i32.div_u (local.get $oy) (local.get $oh)))
    (local.set $oy (i32.rem_u (local.get $oy) (local.get $oh)))
    (local.set $p0 (local.get $lo))
    (block $done (loop $tiles
      (br_if $done (i32.ge_u (local.get $p0) (local.get $hi)))
      (local.set $rows (i32.sub (local.get $hi) (local.get $p0)))
      (if (i32.gt_u (local.get $rows) (i32.const 4)) (then (local.set $rows (i32.const 4))))
      ;; each tile row's window origin (iy, ix) and x there; rows past `rows` start at iy = h,
      ;; so they read only zeros
      (local.set $q (i32.const 0))
      (loop $origins
        (local.set $t (i32.add (local.get $info) (i32.shl (local.get $q) (i32.const 4))))
        (if (i32.lt_u (local.get $q) (local.get $rows))
          (then
            (i32.store (local.get $t) (i32.sub (i32.mul (local.get $oy) (local.get $sh))
              (local.get $pt)))
            (i32.store offset=4 (local.get $t) (i32.sub (i32.mul (local.get $ox) (local.get $sw))
              (local.get $pl)))
            (i32.store offset=8 (local.get $t) (i32.add (local.get $x) (i32.add
              (i32.mul (i32.add (i32.mul (local.get $b) (local.get $h)) (i32.load (local.get $t)))
                (local.get $rowBytes))
              (i32.mul (i32.load offset=4 (local.get $t)) (local.get $ciBytes)))))
            (local.set $ox (i32.add (local.get $ox) (i32.const 1)))
            (if (i32.eq (local.get $ox) (local.get $ow)) (then
              (local.set $ox (i32.const 0))
              (local.set $oy (i32.add (local.get $oy) (i32.const 1)))
              (if (i32.eq (local.get $oy) (local.get $oh)) (then
                (local.set $oy (i32.const 0))
                (local.set $b (i32.add (local.get $b) (i32.const 1))))))))
          (else (i32.store (local.get $t) (local.get $h))))
        (local.set $q (i32.add (local.get $q) (i32.const 1)))
        (br_if $origins (i32.lt_u (local.get $q) (i32.const 4))))
      (local.set $ix0 (i32.load offset=4 (local.get $info)))
      (local.set $ix1 (i32.load offset=20 (local.get $info)))
      (local.set $ix2 (i32.load offset=36 (local.get $info)))
      (local.set $ix3 (i32.load offset=52 (local.get $info)))
      ;; im2col of the tile, interleaved
      (local.set $dst (local.get $scratch))
      (local.set $kh (i32.const 0))
      (loop $taph
        ;; unsigned compares: negative coordinates are out of range too
        (local.set $ok0 (i32.lt_u (i32.add (i32.load (local.get $info)) (local.get $kh))
          (local.get $h)))
        (local.set $ok1 (i32.lt_u (i32.add (i32.load offset=16 (local.get $info)) (local.get $kh))
          (local.get $h)))
        (local.set $ok2 (i32.lt_u (i32.add (i32.load offset=32 (local.get $info)) (local.get $kh))
          (local.get $h)))
        (local.set $ok3 (i32.lt_u (i32.add (i32.load offset=48 (local.get $info)) (local.get $kh))
          (local.get $h)))
        (local.set $t (i32.mul (local.get $kh) (local.get $rowBytes)))
        (local.set $r0 (i32.add (i32.load offset=8 (local.get $info)) (local.get $t)))
        (local.set $r1 (i32.add (i32.load offset=24 (local.get $info)) (local.get $t)))
        (local.set $r2 (i32.add (i32.load offset=40 (local.get $info)) (local.get $t)))
        (local.set $r3 (i32.add (i32.load offset=56 (local.get $info)) (local.get $t)))
        (local.set $kw (i32.const 0))
        (loop $tapw
          (local.set $t (i32.mul (local.get $kw) (local.get $ciBytes)))
          (call $gather4
            (select (i32.add (local.get $r0) (local.get $t)) (local.get $zero)
              (i32.and (local.get $ok0)
                (i32.lt_u (i32.add (local.get $ix0) (local.get $kw)) (local.get $wd))))
            (select (i32.add (local.get $r1) (local.get $t)) (local.get $zero)
              (i32.and (local.get $ok1)
                (i32.lt_u (i32.add (local.get $ix1) (local.get $kw)) (local.get $wd))))
            (select (i32.add (local.get $r2) (local.get $t)) (local.get $zero)
              (i32.and (local.get $ok2)
                (i32.lt_u (i32.add (local.get $ix2) (local.get $kw)) (local.get $wd))))
            (select (i32.add (local.get $r3) (local.get $t)) (local.get $zero)
              (i32.and (local.get $ok3)
                (i32.lt_u (i32.add (local.get $ix3) (local.get $kw)) (local.get $wd))))
            (local.get $dst) (local.get $ci))
          (local.set $dst (i32.add (local.get $dst) (i32.shl (local.get $ci) (i32.const 4))))
          (local.set $kw (i32.add (local.get $kw) (i32.const 1)))
          (br_if $tapw (i32.lt_u (local.get $kw) (local.get $fw))))
        (local.set $kh (i32.add (local.get $kh) (i32.const 1)))
        (br_if $taph (i32.lt_u (local.get $kh) (local.get $fh))))
      (local.set $cb (i32.const 0))
      (loop $colTiles
        (local.set $c (local.get $cb))
        (if (i32.gt_u (i32.add (local.get $c) (i32.const 8)) (local.get $co))
          (then (local.set $c (i32.sub (local.get $co) (i32.const 8)))))
        (call $tile (local.get $scratch)
          (i32.add (local.get $w) (i32.shl (local.get $c) (i32.const 2)))
          (local.get $coStride) (local.get $R)
          (i32.add (local.get $bias) (i32.shl (local.get $c) (i32.const 2))) (local.get $flags)
          (i32.add (local.get $y) (i32.shl (i32.add (i32.mul (local.get $p0) (local.get $co))
            (local.get $c)) (i32.const 2)))
          (local.get $coStride) (local.get $rows))
        (local.set $cb (i32.add (local.get $cb) (i32.const 8)))
        (br_if $colTiles (i32.lt_u (local.get $cb) (local.get $co))))
      (local.set $p0 (i32.add (local.get $p0) (i32.const 4)))
      (br $tiles))))

  ;; dx[b, iy, ix, c] = Σ over oy ascending, ox ascending, o of dy[b, oy, ox, o] · W[kh, kw, c, o]
  ;; with kh = iy + pt − oy·sh ∈ [0, fh), kw = ix + pl − ox·sw ∈ [0, fw), for the rows (b, iy)
  ;; in [lo, hi), row-major, starting from +0 with f32 mul then add. That is the order of both
  ;; paths this replaces: claimcheck's phase-filter rewrite (an XNNPACK convolution of dy,
  ;; zero-padded, with the taps kh ≡ iy + pt (mod s) in descending order), and where that does
  ;; not apply tfjs-backend-wasm's own loop (src/cc/kernels/Conv2DBackpropInput.cc). Those add
  ;; products with zero (absent taps, padding) that are skipped here, or skip some added here;
  ;; adding ±0 leaves a sum that starts at +0 unchanged, so for finite inputs the results are
  ;; identical (with ±∞ in dy or W they may differ where one multiplies ∞ by a zero).
  ;;
  ;; W [fh, fw, ci, co] is first rearranged in scratch as Wt: per block of 8 input channels (the
  ;; last block overlaps the one before when ci % 8 ≠ 0), per class (kh mod sh, kw mod sw), the
  ;; class's kh descending, kw descending, o, then the block's 8 channels; so the taps of one dx
  ;; pixel are consecutive 32-byte rows of Wt. Then, per dx row and column class, tiles of 4
  ;; pixels of that class gather their dy rows (zero where ox falls outside dy). Requires ci ≥ 8.
  ;; Scratch: 32·fh·fw·co·⌈ci/8⌉ + 16·⌈fh/sh⌉·⌈fw/sw⌉·co + 4·co bytes (Wt, the tile, zeros).
  (func (export "conv2dBackpropInput")
    (param $dy i32) (param $w i32) (param $dx i32)
    (param $n i32) (param $h i32) (param $wd i32) (param $ci i32)
    (param $oh i32) (param $ow i32) (param $co i32)
    (param $fh i32) (param $fw i32) (param $sh i32) (param $sw i32) (param $pt i32) (param $pl i32)
    (param $scratch i32) (param $lo i32) (param $hi i32)
    (local $blocks i32) (local $blockBytes i32) (local $coBytes i32) (local $a i32)
    (local $zero i32) (local $dst i32) (local $src i32) (local $blk i32) (local $c0 i32)
    (local $ah i32) (local $aw i32) (local $nkh i32) (local $nkw i32) (local $i i32) (local $j i32)
    (local $o i32) (local $c i32) (local $kh i32) (local $kw i32)
    (local $r i32) (local $b i32) (local $iy i32) (local $qy i32) (local $i0 i32) (local $nt i32)
    (local $ix0 i32) (local $np i32) (local $qx0 i32) (local $K i32) (local $bt i32)
    (local $row i32) (local $m i32) (local $rows i32) (local $t i32) (local $ox i32)
    (local.set $blocks (i32.shr_u (i32.add (local.get $ci) (i32.const 7)) (i32.const 3)))
    (local.set $coBytes (i32.shl (local.get $co) (i32.const 2)))
    (local.set $blockBytes (i32.shl (i32.mul (i32.mul (local.get $fh) (local.get $fw))
      (local.get $co)) (i32.const 5)))
    (local.set $a (i32.add (local.get $scratch) (i32.mul (local.get $blocks)
      (local.get $blockBytes))))
    (local.set $zero (i32.add (local.get $a) (i32.shl (i32.mul (i32.mul
      (call $classSize (local.get $fh) (local.get $sh) (i32.const 0))
      (call $classSize (local.get $fw) (local.get $sw) (i32.const 0))) (local.get $co))
      (i32.const 4))))
    (memory.fill (local.get $zero) (i32.const 0) (local.get $coBytes))
    ;; Wt
    (local.set $dst (local.get $scratch))
    (local.set $blk (i32.const 0))
    (loop $wtBlocks
      (local.set $c0 (i32.shl (local.get $blk) (i32.const 3)))
      (if (i32.gt_u (i32.add (local.get $c0) (i32.const 8)) (local.get $ci))
        (then (local.set $c0 (i32.sub (local.get $ci) (i32.const 8)))))
      (local.set $ah (i32.const 0))
      (loop $classh
        (local.set $nkh (call $classSize (local.get $fh) (local.get $sh) (local.get $ah)))
        (local.set $aw (i32.const 0))
        (loop $classw
          (local.set $nkw (call $classSize (local.get $fw) (local.get $sw) (local.get $aw)))
          (local.set $i (i32.const 0))
          (block $ihDone (loop $ih
            (br_if $ihDone (i32.ge_u (local.get $i) (local.get $nkh)))
            (local.set $kh (i32.add (local.get $ah) (i32.mul (local.get $sh)
              (i32.sub (i32.sub (local.get $nkh) (i32.const 1)) (local.get $i)))))
            (local.set $j (i32.const 0))
            (block $jwDone (loop $jw
              (br_if $jwDone (i32.ge_u (local.get $j) (local.get $nkw)))
              (local.set $kw (i32.add (local.get $aw) (i32.mul (local.get $sw)
                (i32.sub (i32.sub (local.get $nkw) (i32.const 1)) (local.get $j)))))
              (local.set $o (i32.const 0))
              (loop $outCh
                (local.set $src (i32.add (local.get $w) (i32.shl (i32.add (i32.mul (i32.add
                  (i32.mul (i32.add (i32.mul (local.get $kh) (local.get $fw)) (local.get $kw))
                  (local.get $ci)) (local.get $c0)) (local.get $co)) (local.get $o))
                  (i32.const 2))))
                (local.set $c (i32.const 0))
                (loop $inCh
                  (f32.store (local.get $dst) (f32.load (local.get $src)))
                  (local.set $src (i32.add (local.get $src) (local.get $coBytes)))
                  (local.set $dst (i32.add (local.get $dst) (i32.const 4)))
                  (local.set $c (i32.add (local.get $c) (i32.const 1)))
                  (br_if $inCh (i32.lt_u (local.get $c) (i32.const 8))))
                (local.set $o (i32.add (local.get $o) (i32.const 1)))
                (br_if $outCh (i32.lt_u (local.get $o) (local.get $co))))
              (local.set $j (i32.add (local.get $j) (i32.const 1)))
              (br $jw)))
            (local.set $i (i32.add (local.get $i) (i32.const 1)))
            (br $ih)))
          (local.set $aw (i32.add (local.get $aw) (i32.const 1)))
          (br_if $classw (i32.lt_u (local.get $aw) (local.get $sw))))
        (local.set $ah (i32.add (local.get $ah) (i32.const 1)))
        (br_if $classh (i32.lt_u (local.get $ah) (local.get $sh))))
      (local.set $blk (i32.add (local.get $blk) (i32.const 1)))
      (br_if $wtBlocks (i32.lt_u (local.get $blk) (local.get $blocks))))
    ;; dx rows
    (local.set $r (local.get $lo))
    (block $rowsDone (loop $rowLoop
      (br_if $rowsDone (i32.ge_u (local.get $r) (local.get $hi)))
      (local.set $b (i32.div_u (local.get $r) (local.get $h)))
      (local.set $iy (i32.rem_u (local.get $r) (local.get $h)))
      (local.set $ah (i32.rem_u (i32.add (local.get $iy) (local.get $pt)) (local.get $sh)))
      (local.set $qy (i32.div_u (i32.add (local.get $iy) (local.get $pt)) (local.get $sh)))
      (local.set $nkh (call $classSize (local.get $fh) (local.get $sh) (local.get $ah)))
      ;; the class's i-th kh (descending) reads dy row oy = qy − nkh + 1 + i: those in [0, oh)
      (local.set $i0 (i32.sub (i32.sub (local.get $nkh) (i32.const 1)) (local.get $qy)))
      (if (i32.lt_s (local.get $i0) (i32.const 0)) (then (local.set $i0 (i32.const 0))))
      (local.set $nt (i32.sub (i32.add (local.get $oh) (i32.sub (local.get $nkh) (i32.const 1)))
        (local.get $qy)))
      (if (i32.gt_s (local.get $nt) (local.get $nkh)) (then (local.set $nt (local.get $nkh))))
      (local.set $nt (i32.sub (local.get $nt) (local.get $i0)))
      (if (i32.lt_s (local.get $nt) (i32.const 0)) (then (local.set $nt (i32.const 0))))
      (local.set $aw (i32.const 0))
      (loop $phase
        ;; the dx columns ix ≡ aw − pl (mod sw), from ix0
        (local.set $ix0 (i32.rem_u (i32.sub (i32.add (local.get $aw) (local.get $sw))
          (i32.rem_u (local.get $pl) (local.get $sw))) (local.get $sw)))
        (if (i32.lt_u (local.get $ix0) (local.get $wd)) (then
          (local.set $nkw (call $classSize (local.get $fw) (local.get $sw) (local.get $aw)))
          (local.set $np (i32.div_u (i32.sub (i32.add (i32.sub (local.get $wd) (local.get $ix0))
            (local.get $sw)) (i32.const 1)) (local.get $sw)))
          (local.set $qx0 (i32.div_u (i32.add (local.get $ix0) (local.get $pl)) (local.get $sw)))
          (local.set $K (i32.mul (i32.mul (local.get $nt) (local.get $nkw)) (local.get $co)))
          ;; Wt's rows for class (ah, aw) from its i0-th kh, in the first block
          (local.set $bt (i32.mul (local.get $i0) (local.get $nkw)))
          (local.set $c (i32.const 0))
          (block $before (loop $earlier
            (br_if $before (i32.ge_u (local.get $c) (local.get $ah)))
            (local.set $bt (i32.add (local.get $bt) (i32.mul (local.get $fw)
              (call $classSize (local.get $fh) (local.get $sh) (local.get $c)))))
            (local.set $c (i32.add (local.get $c) (i32.const 1)))
            (br $earlier)))
          (local.set $c (i32.const 0))
          (block $beforeW (loop $earlierW
            (br_if $beforeW (i32.ge_u (local.get $c) (local.get $aw)))
            (local.set $bt (i32.add (local.get $bt) (i32.mul (local.get $nkh)
              (call $classSize (local.get $fw) (local.get $sw) (local.get $c)))))
            (local.set $c (i32.add (local.get $c) (i32.const 1)))
            (br $earlierW)))
          (local.set $bt (i32.add (local.get $scratch) (i32.shl (i32.mul (local.get $bt)
            (local.get $co)) (i32.const 5))))
          (local.set $row (i32.add (local.get $dx) (i32.shl (i32.mul (i32.add (i32.mul
            (local.get $r) (local.get $wd)) (local.get $ix0)) (local.get $ci)) (i32.const 2))))
          (local.set $m (i32.const 0))
          (loop $pixels
            (local.set $rows (i32.sub (local.get $np) (local.get $m)))
            (if (i32.gt_u (local.get $rows) (i32.const 4)) (then (local.set $rows (i32.const 4))))
            ;; the dy rows of the tile's pixels, interleaved; pixels past `rows` read zeros
            (if (local.get $K) (then
              (local.set $dst (local.get $a))
              (local.set $t (i32.const 0))
              (loop $taph
                (local.set $src (i32.add (local.get $dy) (i32.mul (i32.mul (i32.add (i32.mul
                  (local.get $b) (local.get $oh)) (i32.add (i32.sub (local.get $qy) (i32.sub
                  (local.get $nkh) (i32.const 1))) (i32.add (local.get $i0) (local.get $t))))
                  (local.get $ow)) (local.get $coBytes))))
                (local.set $ox (i32.sub (i32.add (local.get $qx0) (local.get $m))
                  (i32.sub (local.get $nkw) (i32.const 1))))
                (local.set $j (i32.const 0))
                (loop $tapw
                  ;; unsigned compares: negative columns are out of range too
                  (call $gather4
                    (select (i32.add (local.get $src)
                      (i32.mul (local.get $ox) (local.get $coBytes)))
                      (local.get $zero) (i32.lt_u (local.get $ox) (local.get $ow)))
                    (select (i32.add (local.get $src)
                      (i32.mul (i32.add (local.get $ox) (i32.const 1)) (local.get $coBytes)))
                      (local.get $zero) (i32.and (i32.gt_u (local.get $rows) (i32.const 1))
                      (i32.lt_u (i32.add (local.get $ox) (i32.const 1)) (local.get $ow))))
                    (select (i32.add (local.get $src)
                      (i32.mul (i32.add (local.get $ox) (i32.const 2)) (local.get $coBytes)))
                      (local.get $zero) (i32.and (i32.gt_u (local.get $rows) (i32.const 2))
                      (i32.lt_u (i32.add (local.get $ox) (i32.const 2)) (local.get $ow))))
                    (select (i32.add (local.get $src)
                      (i32.mul (i32.add (local.get $ox) (i32.const 3)) (local.get $coBytes)))
                      (local.get $zero) (i32.and (i32.gt_u (local.get $rows) (i32.const 3))
                      (i32.lt_u (i32.add (local.get $ox) (i32.const 3)) (local.get $ow))))
                    (local.get $dst) (local.get $co))
                  (local.set $dst
                    (i32.add (local.get $dst) (i32.shl (local.get $co) (i32.const 4))))
                  (local.set $ox (i32.add (local.get $ox) (i32.const 1)))
                  (local.set $j (i32.add (local.get $j) (i32.const 1)))
                  (br_if $tapw (i32.lt_u (local.get $j) (local.get $nkw))))
                (local.set $t (i32.add (local.get $t) (i32.const 1)))
                (br_if $taph (i32.lt_u (local.get $t) (local.get $nt))))))
            (local.set $blk (i32.const 0))
            (loop $colTiles
              (local.set $c0 (i32.shl (local.get $blk) (i32.const 3)))
              (if (i32.gt_u (i32.add (local.get $c0) (i32.const 8)) (local.get $ci))
                (then (local.set $c0 (i32.sub (local.get $ci) (i32.const 8)))))
              (call $tile (local.get $a)
                (i32.add (local.get $bt) (i32.mul (local.get $blk) (local.get $blockBytes)))
                (i32.const 32) (local.get $K) (i32.const 0) (i32.const 0)
                (i32.add (local.get $row) (i32.shl (i32.add (i32.mul (i32.mul (local.get $m)
                  (local.get $sw)) (local.get $ci)) (local.get $c0)) (i32.const 2)))
                (i32.shl (i32.mul (local.get $sw) (local.get $ci)) (i32.const 2))
                (local.get $rows))
              (local.set $blk (i32.add (local.get $blk) (i32.const 1)))
              (br_if $colTiles (i32.lt_u (local.get $blk) (local.get $blocks))))
            (local.set $m (i32.add (local.get $m) (i32.const 4)))
            (br_if $pixels (i32.lt_u (local.get $m) (local.get $np))))))
        (local.set $aw (i32.add (local.get $aw) (i32.const 1)))
        (br_if $phase (i32.lt_u (local.get $aw) (local.get $sw))))
      (local.set $r (i32.add (local.get $r) (i32.const 1)))
      (br $rowLoop))))
)
