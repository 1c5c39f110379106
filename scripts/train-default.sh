#!/usr/bin/env bash
# Reproduce the shipped model, assets/bcm-default.safetensors, from nothing: fetch the photos,
# then the seven training stages (docs/experiments.md says what each one bought). About 31 h
# of training on 2 CPU cores. Resumable: run it again after a stop or a kill and it goes on
# from the last checkpoint of the stage it was in; finished stages are skipped.
#
#   scripts/train-default.sh              # writes runs/*.safetensors, the last as runs/default.safetensors
#   BIN=target/release/bcm-studio scripts/train-default.sh
set -euo pipefail
cd "$(dirname "$0")/.."
BIN=${BIN:-target/release/bcm-studio}
DATA=${DATA:-data/photos}
[ -x "$BIN" ] || cargo build --release
[ -d "$DATA" ] || scripts/fetch-photos.sh

# stage RUN EXPORT TRAIN-ARGS...: train runs/RUN (or resume it) and export it to EXPORT.
stage() {
  local run=$1 out=$2
  shift 2
  if [ -f "$out" ]; then
    echo "== $run: done ($out)"
    return
  fi
  echo "== $run"
  if [ -f "runs/$run/config.json" ]; then
    "$BIN" train --out "runs/$run" --data "$DATA" --resume
  else
    "$BIN" train "$@" --data "$DATA" --out "runs/$run"
  fi
  "$BIN" export --from "runs/$run" -o "$out" --half --name photo
}

T=runs/restore.safetensors   # stage 2, the teacher of every distillation (= assets/bcm-teacher.safetensors)
D="--objective distill --denoise-share 0.5 --jpeg-fraction 0.5 --teacher $T --lr 1e-4"

# 1-2: a denoiser, then one that also repairs JPEG damage.
stage photo-denoise runs/denoise.safetensors --objective denoise --preset photo --steps 6800 --lr 4e-4
stage photo-restore "$T" --objective denoise --jpeg-fraction 0.5 --init runs/denoise.safetensors \
  --lr 2e-4 --steps 21000
# 3: bidirectional consistency distillation of stage 2.
stage photo-distill-mix runs/s3.safetensors $D --init "$T" --warmup 100 --steps 5800
# 4-5: the model's own round trips; then the 2-NFE one alone, from σ 0.07.
stage photo-distill-roundtrip runs/s4.safetensors $D --init runs/s3.safetensors --warmup 100 \
  --round-trips 4 --steps 1200
stage photo-distill-floor07 runs/s5.safetensors $D --init runs/s4.safetensors --warmup 100 \
  --round-trips 4 --round-trip-nfe 2 --steps 1200
# 6: the round trips weighted more, then of 2 or 4 NFE, more of them per step.
R="$D --round-trips 4 --warmup 100"
stage photo-distill-rtw2 runs/s6a.safetensors $R --init runs/s5.safetensors --round-trip-nfe 2 \
  --round-trip-weight 2 --steps 1000
stage photo-distill-rtw2-jpeg75 runs/s6b.safetensors $R --init runs/s6a.safetensors --round-trip-nfe 2 \
  --round-trip-weight 2 --steps 500 --jpeg-fraction 0.75
stage photo-distill-rtw2-dw3 runs/s6c.safetensors $R --init runs/s6b.safetensors --round-trip-nfe 2 \
  --round-trip-weight 2 --denoise-weight 0.3 --steps 600
stage photo-distill-rtw4-dw6 runs/s6d.safetensors $R --init runs/s6c.safetensors --round-trip-nfe 2 \
  --round-trip-weight 4 --denoise-weight 0.6 --steps 700
stage photo-distill-rtw8-dw12 runs/s6e.safetensors $R --init runs/s6d.safetensors --round-trip-nfe 2 \
  --round-trip-weight 8 --denoise-weight 1.2 --steps 1000
stage photo-distill-rt24 runs/s6f.safetensors $R --init runs/s6e.safetensors --round-trip-nfe 2,4 \
  --round-trip-weight 8 --denoise-weight 1.2 --steps 500
C="$D --round-trips 4 --round-trip-nfe 2,2,4 --lr-schedule cosine"
stage photo-distill-rt224-cos runs/s6g.safetensors $C --init runs/s6f.safetensors --warmup 50 \
  --round-trip-weight 8 --denoise-weight 1.2 --steps 800
stage photo-distill-rtw16-cos runs/s6h.safetensors $C --init runs/s6g.safetensors --warmup 50 \
  --round-trip-weight 16 --denoise-weight 2.4 --steps 500
stage photo-distill-rtw32-cos runs/s6i.safetensors $C --init runs/s6h.safetensors --warmup 50 \
  --round-trip-weight 32 --denoise-weight 4.8 --steps 400
stage photo-distill-rtw64-cos runs/s6j.safetensors $C --init runs/s6i.safetensors --warmup 30 \
  --round-trip-weight 64 --denoise-weight 9.6 --steps 250
# From here each run takes the settings its --init model's card records (--follow-init).
F="--follow-init"
stage photo-distill-rt8-w64 runs/s6k.safetensors $F --init runs/s6j.safetensors --round-trips 8 --steps 300
stage photo-distill-rt12-w64 runs/s6l.safetensors $F --init runs/s6k.safetensors --round-trips 12
stage photo-distill-rt12b-w64 runs/s6m.safetensors $F --init runs/s6l.safetensors
stage photo-distill-rt16-w64 runs/s6n.safetensors $F --init runs/s6m.safetensors --batch 16 --paths 4 \
  --round-trips 16 --steps 200
stage photo-distill-rt16-n2 runs/s6o.safetensors $F --init runs/s6n.safetensors --round-trip-nfe 2 --steps 300
stage photo-distill-rt16-n224 runs/s6p.safetensors $F --init runs/s6o.safetensors --round-trip-nfe 2,2,4
stage photo-distill-c2-n2 runs/s6q.safetensors $F --init runs/s6p.safetensors --round-trip-nfe 2 --steps 150
stage photo-distill-c2-n224 runs/s6r.safetensors $F --init runs/s6q.safetensors --round-trip-nfe 2,2,4
stage photo-distill-c3-n2 runs/s6s.safetensors $F --init runs/s6r.safetensors --round-trip-nfe 2 --steps 300
stage photo-distill-c3-n224 runs/s6t.safetensors $F --init runs/s6s.safetensors --round-trip-nfe 2,2,4 --steps 300
# 7: the ladders start from less noise: σ 0.035, 0.025, 0.02.
prev=runs/s6t.safetensors
for floor in 035 025 02; do
  stage "photo-floor$floor-n2" "runs/f${floor}n2.safetensors" $F --init "$prev" --ladder-floor "0.$floor" \
    --round-trip-nfe 2 --steps 150
  stage "photo-floor$floor-n224" "runs/f${floor}n224.safetensors" $F --init "runs/f${floor}n2.safetensors" \
    --ladder-floor "0.$floor" --round-trip-nfe 2,2,4 --steps 300
  prev="runs/f${floor}n224.safetensors"
done
cp -f "$prev" runs/default.safetensors
cp -f "${prev%.safetensors}.json" runs/default.json
echo "the shipped model's recipe is done: runs/default.safetensors (compare: bcm-studio eval --model runs/default.safetensors --data $DATA)"
