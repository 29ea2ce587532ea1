;; dW = Conv2DBackpropFilter(x, dy) for NHWC tensors in tfjs-backend-wasm's heap, without packing.
;;
;; dW[kh, kw, c, o] = Σ over positions p = (b, oy, ox) of x[b, oy·sh + kh − pt, ox·sw + kw − pl, c]
;; · dy[p, o], i.e. dW[R, co] = col[P, R]ᵀ · dy[P, co] with R = fh·fw·ci rows (kh, kw, c) and
;; col the im2col matrix of x (zero outside the image). XNNPACK can only run this as a
;; convolution whose "weights" are dy or x, which it packs anew every step; here dy is read in
;; place. dW is cut into 4 × 8 tiles (rows rb .. rb + 3, columns cb .. cb + 7). Positions go in
;; blocks of `block`: a block's im2col rows are written to `scratch` (block × R4 floats, R4 = R
;; rounded up to 4, so it stays in cache), then every tile of the call accumulates the block in
;; 8 v128 registers (per position: 2 loads of dy, 4 splat loads of col, 8 mul, 8 add), starting
;; from zero, and adds them to dW.
;;
;; Split (scratch, lo, hi): the call computes tiles t ∈ [lo, hi) of the T = R4 / 4 · co / 8 tiles
;; in row-major order (tile t: rows 4·floor(t / (co/8)) .., columns 8·(t mod co/8) ..), and
;; writes only the im2col columns of the taps (kh, kw) whose rows those tiles cover. `scratch`:
;; block × R4 × 4 bytes per call. Each element's sum runs over the positions in the same fixed
;; order whatever lo, hi and the build (threaded or not), so any split gives bit-identical
;; results; lo = 0, hi = T computes all of dW.
;;
;; Requires co % 8 == 0 (the caller falls back otherwise). All pointers are byte offsets.
(module
  (import "env" "memory" (memory 1))
  (func (export "conv2dBackpropFilter")
    (param $x i32) (param $dy i32) (param $out i32)
    (param $n i32) (param $h i32) (param $w i32) (param $ci i32)
    (param $oh i32) (param $ow i32) (param $co i32)
    (param $fh i32) (param $fw i32) (param $sh i32) (param $sw i32)
    (param $pt i32) (param $pl i32) (param $block i32)
    (param $scratch i32) (param $lo i32) (param $hi i32)
    (local $R i32) (local $R4 i32) (local $P i32) (local $p0 i32) (local $pn i32)
    (local $q i32) (local $p i32) (local $b i32) (local $oy i32) (local $ox i32)
    (local $kw i32) (local $iy i32) (local $ix i32) (local $ix0 i32)
    (local $dst i32) (local $src i32) (local $end i32)
    (local $t i32) (local $tiles i32) (local $tap i32) (local $tap0 i32) (local $tap1 i32)
    (local $kh0 i32) (local $kw0 i32)
    (local $rb i32) (local $cb i32) (local $a i32) (local $d i32) (local $o i32)
    (local $colStride i32) (local $coStride i32)
    (local $s v128) (local $d0 v128) (local $d1 v128)
    (local $c0 v128) (local $c1 v128) (local $c2 v128) (local $c3 v128)
    (local $c4 v128) (local $c5 v128) (local $c6 v128) (local $c7 v128)
    (if (i32.ge_u (local.get $lo) (local.get $hi)) (then (return)))
    (local.set $R (i32.mul (i32.mul (local.get $fh) (local.get $fw)) (local.get $ci)))
    (local.set $R4 (i32.and (i32.add (local.get $R) (i32.const 3)) (i32.const -4)))
    (local.set $P (i32.mul (local.get $n) (i32.mul (local.get $oh) (local.get $ow))))
    (local.set $tiles (i32.shr_u (local.get $co) (i32.const 3)))
    (local.set $colStride (i32.shl (local.get $R4) (i32.const 2)))
    (local.set $coStride (i32.shl (local.get $co) (i32.const 2)))
    ;; the taps tap0 .. tap1 − 1 holding the rows of tiles lo .. hi − 1 (tap = kh·fw + kw)
    (local.set $tap0 (i32.div_u (i32.shl (i32.div_u (local.get $lo) (local.get $tiles))
      (i32.const 2)) (local.get $ci)))
    (local.set $end (i32.shl (i32.add (i32.div_u (i32.sub (local.get $hi) (i32.const 1))
      (local.get $tiles)) (i32.const 1)) (i32.const 2)))
    (if (i32.gt_u (local.get $end) (local.get $R)) (then (local.set $end (local.get $R))))
    (local.set $tap1 (i32.div_u (i32.add (local.get $end) (i32.sub (local.get $ci) (i32.const 1)))
      (local.get $ci)))
    (local.set $kh0 (i32.div_u (local.get $tap0) (local.get $fw)))
    (local.set $kw0 (i32.rem_u (local.get $tap0) (local.get $fw)))
    ;; dW = 0 on the call's tiles (their rows that exist)
    (local.set $t (local.get $lo))
    (loop $zeroTiles
      (local.set $rb (i32.shl (i32.div_u (local.get $t) (local.get $tiles)) (i32.const 2)))
      (local.set $cb (i32.shl (i32.rem_u (local.get $t) (local.get $tiles)) (i32.const 3)))
      (local.set $end (i32.add (local.get $rb) (i32.const 4)))
      (if (i32.gt_u (local.get $end) (local.get $R)) (then (local.set $end (local.get $R))))
      (loop $zeroRows
        (local.set $o (i32.add (local.get $out) (i32.shl (i32.add (i32.mul (local.get $rb)
          (local.get $co)) (local.get $cb)) (i32.const 2))))
        (v128.store (local.get $o) (v128.const i64x2 0 0))
        (v128.store offset=16 (local.get $o) (v128.const i64x2 0 0))
        (local.set $rb (i32.add (local.get $rb) (i32.const 1)))
        (br_if $zeroRows (i32.lt_u (local.get $rb) (local.get $end))))
      (local.set $t (i32.add (local.get $t) (i32.const 1)))
      (br_if $zeroTiles (i32.lt_u (local.get $t) (local.get $hi))))
    (local.set $p0 (i32.const 0))
    (block $done (loop $blocks
      (br_if $done (i32.ge_u (local.get $p0) (local.get $P)))
      (local.set $pn (i32.sub (local.get $P) (local.get $p0)))
      (if (i32.gt_u (local.get $pn) (local.get $block)) (then (local.set $pn (local.get $block))))
      ;; im2col of positions p0 .. p0 + pn − 1, taps tap0 .. tap1 − 1 (the rest, and the
      ;; padding rows R .. R4 − 1, stay zero)
      (memory.fill (local.get $scratch) (i32.const 0)
        (i32.mul (local.get $pn) (local.get $colStride)))
      (local.set $q (i32.const 0))
      (loop $rows
        (local.set $p (i32.add (local.get $p0) (local.get $q)))
        (local.set $ox (i32.rem_u (local.get $p) (local.get $ow)))
        (local.set $oy (i32.div_u (local.get $p) (local.get $ow)))
        (local.set $b (i32.div_u (local.get $oy) (local.get $oh)))
        (local.set $oy (i32.rem_u (local.get $oy) (local.get $oh)))
        (local.set $dst (i32.add (i32.add (local.get $scratch) (i32.mul (local.get $q)
          (local.get $colStride))) (i32.shl (i32.mul (local.get $tap0) (local.get $ci))
          (i32.const 2))))
        (local.set $tap (local.get $tap0))
        (local.set $kw (local.get $kw0))
        ;; (iy, ix) = the input pixel tap (kh, kw) reads; ix0 = its column at kw = 0
        (local.set $iy (i32.sub (i32.add (i32.mul (local.get $oy) (local.get $sh))
          (local.get $kh0)) (local.get $pt)))
        (local.set $ix0 (i32.sub (i32.mul (local.get $ox) (local.get $sw)) (local.get $pl)))
        (local.set $ix (i32.add (local.get $ix0) (local.get $kw0)))
        (loop $taps
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
          (local.set $ix (i32.add (local.get $ix) (i32.const 1)))
          (if (i32.eq (local.get $kw) (local.get $fw)) (then
            (local.set $kw (i32.const 0))
            (local.set $ix (local.get $ix0))
            (local.set $iy (i32.add (local.get $iy) (i32.const 1)))))
          (local.set $tap (i32.add (local.get $tap) (i32.const 1)))
          (br_if $taps (i32.lt_u (local.get $tap) (local.get $tap1))))
        (local.set $q (i32.add (local.get $q) (i32.const 1)))
        (br_if $rows (i32.lt_u (local.get $q) (local.get $pn))))
      ;; for each tile: dW[rb .. rb + 3, cb .. cb + 7] += col[:, rb .. rb + 3]ᵀ · dy[p0 .., cb ..]
      (local.set $t (local.get $lo))
      (loop $tileLoop
        (local.set $rb (i32.shl (i32.div_u (local.get $t) (local.get $tiles)) (i32.const 2)))
        (local.set $cb (i32.shl (i32.rem_u (local.get $t) (local.get $tiles)) (i32.const 3)))
        (local.set $c0 (v128.const i64x2 0 0)) (local.set $c1 (v128.const i64x2 0 0))
        (local.set $c2 (v128.const i64x2 0 0)) (local.set $c3 (v128.const i64x2 0 0))
        (local.set $c4 (v128.const i64x2 0 0)) (local.set $c5 (v128.const i64x2 0 0))
        (local.set $c6 (v128.const i64x2 0 0)) (local.set $c7 (v128.const i64x2 0 0))
        (local.set $a (i32.add (local.get $scratch) (i32.shl (local.get $rb) (i32.const 2))))
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
        (local.set $t (i32.add (local.get $t) (i32.const 1)))
        (br_if $tileLoop (i32.lt_u (local.get $t) (local.get $hi))))
      (local.set $p0 (i32.add (local.get $p0) (local.get $pn)))
      (br $blocks))))
)
