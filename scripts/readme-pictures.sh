#!/usr/bin/env bash
# Make the README's before/after pictures with the program itself, from the sample photos in
# assets/samples/, so that they stay true to what it does: docs/pictures/*.jpg.
# Needs ImageMagick (`convert`) and Python 3 (for the masks and strokes) besides the binary.
#   scripts/readme-pictures.sh                 # uses target/release/bcm-studio (builds it)
#   BIN=path/to/bcm-studio scripts/readme-pictures.sh
set -euo pipefail
cd "$(dirname "$0")/.."
BIN=${BIN:-target/release/bcm-studio}
[ -x "$BIN" ] || cargo build --release
OUT=docs/pictures
WORK=$(mktemp -d)
trap 'rm -rf "$WORK"' EXIT
mkdir -p "$OUT"
S=assets/samples
run() { "$BIN" --device cpu "$@" 2>&1 | tail -n 1; }

# Masks and strokes, drawn as a person would with the brush.
python3 - "$WORK" <<'PY'
import sys
from PIL import Image, ImageDraw
w = sys.argv[1]
# seeding.jpg: the dandelion head at the lower right.
m = Image.new("L", (1365, 768), 0)
ImageDraw.Draw(m).ellipse((1010, 480, 1220, 690), fill=255)
m.save(f"{w}/remove-mask.png")
# life.jpg: the thin dead twig crossing the rocks at the left.
m = Image.new("L", (1153, 768), 0)
ImageDraw.Draw(m).line([(18, 658), (75, 570), (132, 490), (185, 420), (250, 375), (280, 340), (325, 305), (372, 279)], fill=255, width=10)
# ... and the paler branch that forks off it above the boulder.
ImageDraw.Draw(m).line([(252, 364), (258, 345), (266, 330), (282, 321), (300, 312), (320, 302), (340, 292), (360, 283), (380, 275)], fill=255, width=9)
m.save(f"{w}/heal-mask.png")
# seeding.jpg: a rough yellow blob where a flower should be.
s = Image.new("RGBA", (1365, 768), (0, 0, 0, 0))
ImageDraw.Draw(s).ellipse((620, 430, 700, 510), fill=(250, 210, 40, 255))
s.save(f"{w}/strokes.png")
PY

side() { # side LEFT RIGHT GEOMETRY OUT: crop both to GEOMETRY (WxH+X+Y), put them side by side
  convert \( "$1" -crop "$3" +repage \) \( "$2" -crop "$3" +repage \) -bordercolor white \
    -border 2 +append -resize '1000x>' -quality 88 "$4"
}

# Inpaint: remove an object, heal a blemish (default settings).
run inpaint "$S/seeding.jpg" --mask "$WORK/remove-mask.png" -o "$WORK/removed.png"
side "$S/seeding.jpg" "$WORK/removed.png" 520x360+845+400 "$OUT/inpaint-remove.jpg"
run inpaint "$S/life.jpg" --mask "$WORK/heal-mask.png" -o "$WORK/healed.png"
side "$S/life.jpg" "$WORK/healed.png" 420x420+0+250 "$OUT/inpaint-heal.jpg"

# Restore: a photo saved at JPEG quality 10, restored with the settings read from the file.
convert "$S/life.jpg" -quality 10 "$WORK/damaged.jpg"
run restore "$WORK/damaged.jpg" -o "$WORK/restored.png"
side "$WORK/damaged.jpg" "$WORK/restored.png" 360x240+420+200 "$OUT/restore-jpeg.jpg"

# Edit: rough strokes turned into content.
convert "$S/seeding.jpg" "$WORK/strokes.png" -composite "$WORK/painted.png"
run edit "$S/seeding.jpg" --strokes "$WORK/strokes.png" -o "$WORK/edited.png"
side "$WORK/painted.png" "$WORK/edited.png" 360x240+480+350 "$OUT/edit-strokes.jpg"

# Timeline: the photo inverted to σ 2 (what the timeline shows) and generated back.
convert "$S/life.jpg" -resize 576x384 "$WORK/small.png"
run invert "$WORK/small.png" --sigma 2 -o "$WORK/x2.safetensors" --preview "$WORK/x2.png"
run generate --from "$WORK/x2.safetensors" -o "$WORK/back.png"
convert "$WORK/small.png" "$WORK/x2.png" "$WORK/back.png" -bordercolor white -border 2 +append \
  -resize '1000x>' -quality 88 "$OUT/timeline.jpg"

# Interpolate: five frames between the two samples (at a small size, so it is quick).
convert "$S/seeding.jpg" -resize 288x192! "$WORK/a.png"
convert "$S/life.jpg" -resize 288x192! "$WORK/b.png"
run interpolate "$WORK/a.png" "$WORK/b.png" --frames 5 --nfe 16 --strip -o "$WORK/strip.png"
convert "$WORK/strip.png" -resize '1000x>' -quality 88 "$OUT/interpolate.jpg"
ls -l "$OUT"
