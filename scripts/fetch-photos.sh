#!/usr/bin/env bash
# Fetch the training photos from Debian packages (apt-get download + dpkg -x; no other
# network) and copy the selected photographs into data/photos/ (git-ignored).
# Sources and selection rules: see README, "Training data".
set -euo pipefail
cd "$(dirname "$0")/.."
RAW=${RAW_DIR:-data/raw}
OUT=${PHOTO_DIR:-data/photos}
mkdir -p "$RAW/deb" "$RAW/root" "$OUT"

PACKAGES=(gcompris-qt-data lomiri-wallpapers-16.04 lomiri-wallpapers-20.04 mate-backgrounds
          plasma-workspace-wallpapers tuxpaint-data palapeli-data)
( cd "$RAW/deb" && apt-get download "${PACKAGES[@]}" 2>&1 | grep -v 'unsandboxed' || true )
for f in "$RAW"/deb/*.deb; do dpkg -x "$f" "$RAW/root"; done
R="$RAW/root/usr/share"

copy() { # copy SRC DEST-NAME
  cp -f "$1" "$OUT/$2"
}

# A. GCompris: photos inside Qt resource files.
python3 scripts/rcc_extract.py "$RAW/gcompris" "$R"/gcompris-qt/rcc/*.rcc
G="$RAW/gcompris/gcompris/src/activities"
[ -d "$G" ] || G=$(dirname "$(find "$RAW/gcompris" -type d -name erase | head -n1)")
mkdir -p "$OUT/gcompris"
for f in "$G"/erase/resource/*.webp \
         "$G"/explore_monuments/resource/*/*.webp \
         "$G"/explore_world_animals/resource/animals/*.webp \
         "$G"/explore_farm_animals/resource/animals/*.webp \
         "$G"/explore_world_music/resource/music/*.webp \
         "$G"/clickgame/resource/sea*.webp \
         "$G"/details/resource/image/*_background.webp; do
  [ -f "$f" ] || continue
  base=$(basename "$f")
  case "$base" in middleeast.webp|*Gogh*|*Vincent*|*Portrait*|*Eglise*) continue ;; esac
  rel=${f#"$G"/}
  cp -f "$f" "$OUT/gcompris/$(echo "$rel" | tr '/' '_')"
done

# B. Wallpapers that are photographs.
mkdir -p "$OUT/wallpapers"
for f in "$R"/backgrounds/*_by_*.jpg; do
  case "$(basename "$f")" in umang_by_*|Fossa*|Infinite-Sea*|Painting-Colors*) continue ;; esac
  copy "$f" "wallpapers/$(basename "$f")"
done
for f in "$R"/backgrounds/mate/nature/*.jpg; do copy "$f" "wallpapers/mate_$(basename "$f")"; done
for name in BytheWater ColdRipple ColorfulCups DarkestHour EveningGlow FallenLeaf Grey Kite \
            OneStandsOut Path summer_1am; do
  f="$R/wallpapers/$name/contents/images/2560x1600.jpg"
  [ -f "$f" ] && copy "$f" "wallpapers/plasma_$name.jpg"
done

# C. Texture-rich photos.
mkdir -p "$OUT/textures"
for f in "$R"/tuxpaint/templates/*.jpg; do copy "$f" "textures/tuxpaint_$(basename "$f")"; done
for f in "$R"/palapeli/collection/*.jpg; do copy "$f" "textures/palapeli_$(basename "$f")"; done

# Licences travel with the photos.
mkdir -p "$OUT/LICENSES"
for p in "${PACKAGES[@]}"; do
  c="$RAW/root/usr/share/doc/$p/copyright"
  [ -f "$c" ] && cp -f "$c" "$OUT/LICENSES/$p.copyright"
done
echo "photos: $(find "$OUT" -type f \( -name '*.jpg' -o -name '*.webp' \) | wc -l) in $OUT"
