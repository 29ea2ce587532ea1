;; dW = Conv2DBackpropFilter(x, dy) for NHWC tensors in tfjs-backend-wasm's heap, without packing.
;;
;; dW[kh, kw, c, o] = Σ over positions p = (b, oy, ox) of x[b, oy·sh + kh − pt, ox·sw + kw − pl, c]
;; · dy[p, o], i.e. dW[R, co] = col[P, R]ᵀ · dy[P, co] with R = fh·fw·ci rows (kh, kw, c) and
;; col the im2col matrix of x (zero outside the image). XNNPACK can only run this as a
;; convolution whose "weights" are dy or x, which it packs anew every step; here dy is read in
;; place. Positions go in blocks: a block's im2col rows are written to `col` (block × R4 floats,
;; R4 = R rounded up to 4, so it stays in cache), then every 4 × 8 tile of dW accumulates the
;; block in 8 v128 registers (per position: 2 loads of dy, 4 splat loads of col, 8 mul, 8 add)
;; and adds them to dW. The sum over positions is in a fixed order: the result does not depend
;; on the build (threaded or not) or on anything but the arguments.
;;
;; Requires co % 8 == 0 (the caller falls back otherwise). All pointers are byte offsets.
(module
  (import "env" "memory" (memory 1))
  (func (export "conv2dBackpropFilter")
    (param $x i32) (param $dy i32) (param $out i32) (param $col i32)
    (param $n i32) (param $h i32) (param $w i32) (param $ci i32)
    (param $oh i32) (param $ow i32) (param $co i32)
    (param $fh i32) (param $fw i32) (param $sh i32) (param $sw i32)
    (param $pt i32) (param $pl i32) (param $block i32)
    (local $R i32) (local $R4 i32) (local $P i32) (local $p0 i32) (local $pn i32)
    (local $q i32) (local $p i32) (local $b i32) (local $oy i32) (local $ox i32)
    (local $kh i32) (local $kw i32) (local $iy i32) (local $ix i32)
    (local $dst i32) (local $src i32) (local $end i32)
    (local $rb i32) (local $cb i32) (local $a i32) (local $d i32) (local $o i32)
    (local $colStride i32) (local $coStride i32)
    (local $s v128) (local $d0 v128) (local $d1 v128)
    (local $c0 v128) (local $c1 v128) (local $c2 v128) (local $c3 v128)
    (local $c4 v128) (local $c5 v128) (local $c6 v128) (local $c7 v128)
    (local.set $R (i32.mul (i32.mul (local.get $fh) (local.get $fw)) (local.get $ci)))
    (local.set $R4 (i32.and (i32.add (local.get $R) (i32.const 3)) (i32.const -4)))
    (local.set $P (i32.mul (local.get $n) (i32.mul (local.get $oh) (local.get $ow))))
    (local.set $colStride (i32.shl (local.get $R4) (i32.const 2)))
    (local.set $coStride (i32.shl (local.get $co) (i32.const 2)))
    ;; dW = 0
    (memory.fill (local.get $out) (i32.const 0)
      (i32.shl (i32.mul (local.get $R) (local.get $co)) (i32.const 2)))
    (local.set $p0 (i32.const 0))
    (block $done (loop $blocks
      (br_if $done (i32.ge_u (local.get $p0) (local.get $P)))
      (local.set $pn (i32.sub (local.get $P) (local.get $p0)))
      (if (i32.gt_u (local.get $pn) (local.get $block)) (then (local.set $pn (local.get $block))))
      ;; im2col of positions p0 .. p0 + pn − 1 (the padding rows R .. R4 − 1 are zero)
      (memory.fill (local.get $col) (i32.const 0)
        (i32.mul (local.get $pn) (local.get $colStride)))
      (local.set $q (i32.const 0))
      (loop $rows
        (local.set $p (i32.add (local.get $p0) (local.get $q)))
        (local.set $ox (i32.rem_u (local.get $p) (local.get $ow)))
        (local.set $oy (i32.div_u (local.get $p) (local.get $ow)))
        (local.set $b (i32.div_u (local.get $oy) (local.get $oh)))
        (local.set $oy (i32.rem_u (local.get $oy) (local.get $oh)))
        (local.set $dst (i32.add (local.get $col) (i32.mul (local.get $q) (local.get $colStride))))
        (local.set $kh (i32.const 0))
        (loop $taph
          (local.set $iy (i32.sub (i32.add (i32.mul (local.get $oy) (local.get $sh))
            (local.get $kh)) (local.get $pt)))
          (local.set $kw (i32.const 0))
          (loop $tapw
            (local.set $ix (i32.sub (i32.add (i32.mul (local.get $ox) (local.get $sw))
              (local.get $kw)) (local.get $pl)))
            ;; unsigned compares: negative coordinates are out of range too
            (if (i32.and (i32.lt_u (local.get $iy) (local.get $h))
                         (i32.lt_u (local.get $ix) (local.get $w)))
              (then
                ;; a loop, not memory.copy: V8 calls out of line for it, too slow for ci = 1
                (local.set $src (i32.add (local.get $x) (i32.shl (i32.mul (i32.add (i32.mul
                  (i32.add (i32.mul (local.get $b) (local.get $h)) (local.get $iy)) (local.get $w))
                  (local.get $ix)) (local.get $ci)) (i32.const 2))))
                (local.set $end (i32.add (local.get $dst) (i32.shl (local.get $ci) (i32.const 2))))
                (local.set $o (local.get $dst))
                (loop $copy
                  (f32.store (local.get $o) (f32.load (local.get $src)))
                  (local.set $src (i32.add (local.get $src) (i32.const 4)))
                  (local.set $o (i32.add (local.get $o) (i32.const 4)))
                  (br_if $copy (i32.lt_u (local.get $o) (local.get $end))))))
            (local.set $dst (i32.add (local.get $dst) (i32.shl (local.get $ci) (i32.const 2))))
            (local.set $kw (i32.add (local.get $kw) (i32.const 1)))
            (br_if $tapw (i32.lt_u (local.get $kw) (local.get $fw))))
          (local.set $kh (i32.add (local.get $kh) (i32.const 1)))
          (br_if $taph (i32.lt_u (local.get $kh) (local.get $fh))))
        (local.set $q (i32.add (local.get $q) (i32.const 1)))
        (br_if $rows (i32.lt_u (local.get $q) (local.get $pn))))
      ;; dW[rb .. rb + 3, cb .. cb + 7] += col[:, rb .. rb + 3]ᵀ · dy[p0 .., cb .. cb + 7]
      (local.set $rb (i32.const 0))
      (loop $rowTiles
        (local.set $cb (i32.const 0))
        (loop $colTiles
          (local.set $c0 (v128.const i64x2 0 0)) (local.set $c1 (v128.const i64x2 0 0))
          (local.set $c2 (v128.const i64x2 0 0)) (local.set $c3 (v128.const i64x2 0 0))
          (local.set $c4 (v128.const i64x2 0 0)) (local.set $c5 (v128.const i64x2 0 0))
          (local.set $c6 (v128.const i64x2 0 0)) (local.set $c7 (v128.const i64x2 0 0))
          (local.set $a (i32.add (local.get $col) (i32.shl (local.get $rb) (i32.const 2))))
          (local.set $d (i32.add (local.get $dy) (i32.shl (i32.add (i32.mul (local.get $p0)
            (local.get $co)) (local.get $cb)) (i32.const 2))))
          (local.set $end (i32.add (local.get $a) (i32.mul (local.get $pn) (local.get $colStride))))
          (loop $k
            (local.set $d0 (v128.load (local.get $d)))
            (local.set $d1 (v128.load offset=16 (local.get $d)))
            (local.set $s (v128.load32_splat (local.get $a)))
            (local.set $c0 (f32x4.add (local.get $c0) (f32x4.mul (local.get $s) (local.get $d0))))
            (local.set $c1 (f32x4.add (local.get $c1) (f32x4.mul (local.get $s) (local.get $d1))))
            (local.set $s (v128.load32_splat offset=4 (local.get $a)))
            (local.set $c2 (f32x4.add (local.get $c2) (f32x4.mul (local.get $s) (local.get $d0))))
            (local.set $c3 (f32x4.add (local.get $c3) (f32x4.mul (local.get $s) (local.get $d1))))
            (local.set $s (v128.load32_splat offset=8 (local.get $a)))
            (local.set $c4 (f32x4.add (local.get $c4) (f32x4.mul (local.get $s) (local.get $d0))))
            (local.set $c5 (f32x4.add (local.get $c5) (f32x4.mul (local.get $s) (local.get $d1))))
            (local.set $s (v128.load32_splat offset=12 (local.get $a)))
            (local.set $c6 (f32x4.add (local.get $c6) (f32x4.mul (local.get $s) (local.get $d0))))
            (local.set $c7 (f32x4.add (local.get $c7) (f32x4.mul (local.get $s) (local.get $d1))))
            (local.set $a (i32.add (local.get $a) (local.get $colStride)))
            (local.set $d (i32.add (local.get $d) (local.get $coStride)))
            (br_if $k (i32.lt_u (local.get $a) (local.get $end))))
          ;; add the tile's rows that exist (rows ≥ R are col's zero padding)
          (local.set $o (i32.add (local.get $out) (i32.shl (i32.add (i32.mul (local.get $rb)
            (local.get $co)) (local.get $cb)) (i32.const 2))))
          (v128.store (local.get $o) (f32x4.add (v128.load (local.get $o)) (local.get $c0)))
          (v128.store offset=16 (local.get $o)
            (f32x4.add (v128.load offset=16 (local.get $o)) (local.get $c1)))
          (if (i32.lt_u (i32.add (local.get $rb) (i32.const 1)) (local.get $R)) (then
            (local.set $o (i32.add (local.get $o) (local.get $coStride)))
            (v128.store (local.get $o) (f32x4.add (v128.load (local.get $o)) (local.get $c2)))
            (v128.store offset=16 (local.get $o)
              (f32x4.add (v128.load offset=16 (local.get $o)) (local.get $c3)))))
          (if (i32.lt_u (i32.add (local.get $rb) (i32.const 2)) (local.get $R)) (then
            (local.set $o (i32.add (local.get $o) (local.get $coStride)))
            (v128.store (local.get $o) (f32x4.add (v128.load (local.get $o)) (local.get $c4)))
            (v128.store offset=16 (local.get $o)
              (f32x4.add (v128.load offset=16 (local.get $o)) (local.get $c5)))))
          (if (i32.lt_u (i32.add (local.get $rb) (i32.const 3)) (local.get $R)) (then
            (local.set $o (i32.add (local.get $o) (local.get $coStride)))
            (v128.store (local.get $o) (f32x4.add (v128.load (local.get $o)) (local.get $c6)))
            (v128.store offset=16 (local.get $o)
              (f32x4.add (v128.load offset=16 (local.get $o)) (local.get $c7)))))
          (local.set $cb (i32.add (local.get $cb) (i32.const 8)))
          (br_if $colTiles (i32.lt_u (local.get $cb) (local.get $co))))
        (local.set $rb (i32.add (local.get $rb) (i32.const 4)))
        (br_if $rowTiles (i32.lt_u (local.get $rb) (local.get $R))))
      (local.set $p0 (i32.add (local.get $p0) (local.get $pn)))
      (br $blocks))))
)
