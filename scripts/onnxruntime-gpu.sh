#!/usr/bin/env bash
# onnxruntime-gpu for a GPU machine that reaches no package index (../shared/DEVICE.md).
#
#   scripts/onnxruntime-gpu.sh fetch [VERSION] [PYTHON]   here, with an index: download the wheel
#       and split it into 50 MB parts, one per .gpuNN/ folder of the project root (each small
#       enough for one `device` call to carry; .git/info/exclude keeps them out of git)
#   scripts/onnxruntime-gpu.sh receive .gpuNN             there, once per part, in order: keep it
#       in /tmp/ortparts (files under /tmp last while the machine stays warm)
#   scripts/onnxruntime-gpu.sh install [TARGET]           there, after the last part: join the
#       parts, install into TARGET (default /tmp/site) and print the providers it offers
#
# Then run with PYTHONPATH=TARGET:. so that the GPU build shadows the CPU onnxruntime, e.g.
#   PYTHONPATH=/tmp/site:. python3 -m suite run cases/seed.toml cases/odena.toml \
#       cases/methods.toml --runtimes gpu --out "$OUT/run"
set -euo pipefail

version_default=1.31.1   # built against CUDA 13, as the lent machines' torch is
parts=/tmp/ortparts

case "${1:-}" in
fetch)
    version=${2:-$version_default}
    python=${3:-3.12}
    tag=cp${python/./}
    work=$(mktemp -d)
    python3 -m pip download --no-deps --only-binary=:all: --python-version "$python" \
        --implementation cp --abi "$tag" --platform manylinux_2_28_x86_64 \
        -d "$work" "onnxruntime-gpu==$version"
    wheel=$(ls "$work"/onnxruntime_gpu-*.whl)
    grep -qx '/.gpu\*/' .git/info/exclude 2>/dev/null || echo '/.gpu*/' >> .git/info/exclude
    rm -rf .gpu[0-9]*
    split -b 50M -d "$wheel" "$work/part."
    for part in "$work"/part.*; do
        folder=.gpu${part##*.}
        mkdir -p "$folder" && mv "$part" "$folder/"
    done
    basename "$wheel" > .gpu00/wheel-name
    echo "$(ls -d .gpu[0-9]* | wc -l) parts of $(basename "$wheel"): carry each in its own call"
    ;;
receive)
    folder=${2:?name the folder of the part, e.g. .gpu00}
    mkdir -p "$parts" && cp "$folder"/* "$parts"/
    echo "$(ls "$parts"/part.* | wc -l) parts received"
    ;;
install)
    target=${2:-/tmp/site}
    wheel=/tmp/$(cat "$parts/wheel-name")
    cat "$parts"/part.* > "$wheel"
    python3 -m pip install -q --no-index --no-deps --target "$target" "$wheel"
    PYTHONPATH="$target" python3 -c \
        "import onnxruntime as o; o.preload_dlls(); print(o.__version__, o.get_available_providers())"
    ;;
*)
    sed -n '2,14p' "$0" | sed 's/^# \{0,1\}//'
    exit 2
    ;;
esac
