#!/usr/bin/env bash
# Reproduce the shipped inpainting model, assets/bcm-inpaint.safetensors, from the shipped
# model: one fine-tuning run that teaches it to read a hole's mask (assets/MODEL.md, "The
# inpainting model"). About 1.5 h on 2 CPU cores. Resumable: run it again after a stop.
#
#   scripts/train-inpaint.sh              # writes runs/inpaint.safetensors
#   BIN=target/release/bcm-studio INIT=runs/default.safetensors scripts/train-inpaint.sh
set -euo pipefail
cd "$(dirname "$0")/.."
BIN=${BIN:-target/release/bcm-studio}
DATA=${DATA:-data/photos}
INIT=${INIT:-assets/bcm-default.safetensors}
[ -x "$BIN" ] || cargo build --release
[ -d "$DATA" ] || scripts/fetch-photos.sh

RUN=runs/inpaint
if [ -f "$RUN/config.json" ]; then
  "$BIN" train --out "$RUN" --data "$DATA" --resume
else
  "$BIN" train --objective inpaint --init "$INIT" --data "$DATA" --out "$RUN" \
    --batch 8 --patch 128 --lr 2e-4 --warmup 50 --steps 1500 --lr-schedule cosine \
    --checkpoint-every 100 --validate-every 250 --sample-every 250
fi
"$BIN" export --from "$RUN" -o runs/inpaint.safetensors --half --name inpaint
echo "done: runs/inpaint.safetensors (compare: bcm-studio eval --model runs/inpaint.safetensors --inpainting-only --data $DATA --test-data data/test-photos)"
