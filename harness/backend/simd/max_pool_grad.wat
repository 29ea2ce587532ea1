;; dx = MaxPoolGrad(dy, x) for NHWC tensors in tfjs-backend-wasm's heap, four channels at a time.
;;
;; Each window's gradient goes to its first maximum in (row, column) order, found with a strict
;; `>` from −∞ as the cpu backend does: ties go to the first, and a window with no value above −∞
;; (all −∞ or NaN) passes no gradient. Overlapping windows (stride < pool size) add up.
;; Out-of-image window positions ("same" padding) are skipped. Replaces a rewrite that compared
;; x with the upsampled pooled output in six to ten backend kernels.
;;
;; Split (scratch, lo, hi): the call computes rows r ∈ [lo, hi) of dx, r = b·h + iy (n·h rows);
;; scratch is unused (pass 0). It zeroes those rows and visits, in (b, oy, ox) order, the
;; windows that reach into them, adding each gradient whose maximum lies in those rows. Every
;; element of dx gets its windows' gradients in (b, oy, ox) order whatever lo and hi, so any
;; split gives bit-identical results; lo = 0, hi = n·h computes all of dx.
;;
;; Requires c % 4 == 0 (the caller falls back otherwise). All pointers are byte offsets.
(module
  (import "env" "memory" (memory 1))
  (func (export "maxPoolGrad")
    (param $x i32) (param $dy i32) (param $dx i32)
    (param $n i32) (param $h i32) (param $w i32) (param $c i32)
    (param $oh i32) (param $ow i32) (param $fh i32) (param $fw i32)
    (param $sh i32) (param $sw i32) (param $pt i32) (param $pl i32)
    (param $scratch i32) (param $lo i32) (param $hi i32)
    (local $b i32) (local $oy i32) (local $ox i32) (local $cg i32) (local $ky i32) (local $kx i32)
    (local $iy i32) (local $ix i32) (local $off i32) (local $g i32) (local $i i32)
    (local $row i32) (local $first i32) (local $span i32) (local $top i32)
    (local $iy0 i32) (local $iy1 i32) (local $bEnd i32)
    (local $mx v128) (local $idx v128) (local $v v128) (local $m v128) (local $gv v128)
    (if (i32.ge_u (local.get $lo) (local.get $hi)) (then (return)))
    ;; dx's rows lo .. hi − 1 as float offsets first .. first + span − 1
    (local.set $row (i32.mul (local.get $w) (local.get $c)))
    (local.set $first (i32.mul (local.get $lo) (local.get $row)))
    (local.set $span (i32.mul (i32.sub (local.get $hi) (local.get $lo)) (local.get $row)))
    (memory.fill (i32.add (local.get $dx) (i32.shl (local.get $first) (i32.const 2)))
      (i32.const 0) (i32.shl (local.get $span) (i32.const 2)))
    (local.set $b (i32.div_u (local.get $lo) (local.get $h)))
    (local.set $bEnd (i32.div_u (i32.sub (local.get $hi) (i32.const 1)) (local.get $h)))
    (loop $batch
      ;; this image's rows in range: iy0 .. iy1 − 1
      (local.set $iy0 (i32.sub (local.get $lo) (i32.mul (local.get $b) (local.get $h))))
      (if (i32.lt_s (local.get $iy0) (i32.const 0)) (then (local.set $iy0 (i32.const 0))))
      (local.set $iy1 (i32.sub (local.get $hi) (i32.mul (local.get $b) (local.get $h))))
      (if (i32.gt_s (local.get $iy1) (local.get $h)) (then (local.set $iy1 (local.get $h))))
      (local.set $oy (i32.const 0))
      (loop $rows
        (local.set $top (i32.sub (i32.mul (local.get $oy) (local.get $sh)) (local.get $pt)))
        ;; only windows (rows top .. top + fh − 1) that reach into iy0 .. iy1 − 1
        (if (i32.and (i32.lt_s (local.get $top) (local.get $iy1))
                     (i32.gt_s (i32.add (local.get $top) (local.get $fh)) (local.get $iy0))) (then
        (local.set $g (i32.add (local.get $dy) (i32.shl (i32.mul (i32.mul (i32.add (i32.mul
          (local.get $b) (local.get $oh)) (local.get $oy)) (local.get $ow)) (local.get $c))
          (i32.const 2))))
        (local.set $ox (i32.const 0))
        (loop $cols
          (local.set $cg (i32.const 0))
          (loop $channels
            (local.set $mx (v128.const f32x4 -inf -inf -inf -inf))
            (local.set $idx (v128.const i32x4 -1 -1 -1 -1))
            (local.set $ky (i32.const 0))
            (loop $winRows
              (local.set $iy (i32.add (local.get $top) (local.get $ky)))
              ;; unsigned compares: negative coordinates are out of range too
              (if (i32.lt_u (local.get $iy) (local.get $h)) (then
                (local.set $kx (i32.const 0))
                (loop $winCols
                  (local.set $ix (i32.sub (i32.add (i32.mul (local.get $ox) (local.get $sw))
                    (local.get $kx)) (local.get $pl)))
                  (if (i32.lt_u (local.get $ix) (local.get $w)) (then
                    ;; float offset of x[b, iy, ix, cg]
                    (local.set $off (i32.add (i32.mul (i32.add (i32.mul (i32.add (i32.mul
                      (local.get $b) (local.get $h)) (local.get $iy)) (local.get $w))
                      (local.get $ix)) (local.get $c)) (local.get $cg)))
                    (local.set $v (v128.load (i32.add (local.get $x)
                      (i32.shl (local.get $off) (i32.const 2)))))
                    (local.set $m (f32x4.gt (local.get $v) (local.get $mx)))
                    (local.set $mx (v128.bitselect (local.get $v) (local.get $mx) (local.get $m)))
                    (local.set $idx (v128.bitselect (i32x4.splat (local.get $off)) (local.get $idx)
                      (local.get $m)))))
                  (local.set $kx (i32.add (local.get $kx) (i32.const 1)))
                  (br_if $winCols (i32.lt_u (local.get $kx) (local.get $fw))))))
              (local.set $ky (i32.add (local.get $ky) (i32.const 1)))
              (br_if $winRows (i32.lt_u (local.get $ky) (local.get $fh))))
            ;; dx[idx_l + l] += dy[b, oy, ox, cg + l] for each lane l whose maximum lies in the
            ;; call's rows (unsigned: idx_l = −1, no maximum, is out of range too)
            (local.set $gv (v128.load (local.get $g)))
            (local.set $i (i32x4.extract_lane 0 (local.get $idx)))
            (if (i32.lt_u (i32.sub (local.get $i) (local.get $first)) (local.get $span)) (then
              (local.set $i (i32.add (local.get $dx) (i32.shl (local.get $i) (i32.const 2))))
              (f32.store (local.get $i) (f32.add (f32.load (local.get $i))
                (f32x4.extract_lane 0 (local.get $gv))))))
            (local.set $i (i32x4.extract_lane 1 (local.get $idx)))
            (if (i32.lt_u (i32.sub (local.get $i) (local.get $first)) (local.get $span)) (then
              (local.set $i (i32.add (local.get $dx) (i32.shl (local.get $i) (i32.const 2))))
              (f32.store offset=4 (local.get $i) (f32.add (f32.load offset=4 (local.get $i))
                (f32x4.extract_lane 1 (local.get $gv))))))
            (local.set $i (i32x4.extract_lane 2 (local.get $idx)))
            (if (i32.lt_u (i32.sub (local.get $i) (local.get $first)) (local.get $span)) (then
              (local.set $i (i32.add (local.get $dx) (i32.shl (local.get $i) (i32.const 2))))
              (f32.store offset=8 (local.get $i) (f32.add (f32.load offset=8 (local.get $i))
                (f32x4.extract_lane 2 (local.get $gv))))))
            (local.set $i (i32x4.extract_lane 3 (local.get $idx)))
            (if (i32.lt_u (i32.sub (local.get $i) (local.get $first)) (local.get $span)) (then
              (local.set $i (i32.add (local.get $dx) (i32.shl (local.get $i) (i32.const 2))))
              (f32.store offset=12 (local.get $i) (f32.add (f32.load offset=12 (local.get $i))
                (f32x4.extract_lane 3 (local.get $gv))))))
            (local.set $g (i32.add (local.get $g) (i32.const 16)))
            (local.set $cg (i32.add (local.get $cg) (i32.const 4)))
            (br_if $channels (i32.lt_u (local.get $cg) (local.get $c))))
          (local.set $ox (i32.add (local.get $ox) (i32.const 1)))
          (br_if $cols (i32.lt_u (local.get $ox) (local.get $ow))))))
        (local.set $oy (i32.add (local.get $oy) (i32.const 1)))
        (br_if $rows (i32.lt_u (local.get $oy) (local.get $oh))))
      (local.set $b (i32.add (local.get $b) (i32.const 1)))
      (br_if $batch (i32.le_u (local.get $b) (local.get $bEnd)))))
)
