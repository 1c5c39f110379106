#!/usr/bin/env bash
# Fetch the test photos into data/test-photos/ (git-ignored): 18 photographs from Debian's
# opencv-doc package (apt-get download + dpkg -x; no other network). No training run and no
# choice of settings looks at them; `eval --test-data data/test-photos` reports on them.
# Licence: the package's Apache-2.0 AND BSD-3-Clause; provenance is mixed (baboon is the
# USC-SIPI mandrill). They are measured, never redistributed.
set -euo pipefail
cd "$(dirname "$0")/.."
RAW=${RAW_DIR:-data/raw}
OUT=${TEST_PHOTO_DIR:-data/test-photos}
mkdir -p "$RAW/deb" "$RAW/root" "$OUT"
( cd "$RAW/deb" && apt-get download opencv-doc 2>&1 | grep -v 'unsandboxed' || true )
dpkg -x "$RAW"/deb/opencv-doc_*.deb "$RAW/root"
D="$RAW/root/usr/share/doc/opencv-doc/examples/data"
# Photographs only: no renders, paintings, charts, text or calibration boards, one of each
# stereo or sequence pair.
for f in aero1.jpg aloeL.jpg apple.jpg baboon.jpg board.jpg building.jpg butterfly.jpg \
         ela_original.jpg fruits.jpg graf1.png home.jpg leuvenA.jpg messi5.jpg orange.jpg \
         rubberwhale1.png smarties.png squirrel_cls.jpg stuff.jpg; do
  cp -f "$D/$f" "$OUT/$f"
done
cp -f "$RAW/root/usr/share/doc/opencv-doc/copyright" "$OUT/COPYRIGHT-opencv-doc"
echo "test photos: $(ls "$OUT" | grep -c -v COPYRIGHT) in $OUT"
