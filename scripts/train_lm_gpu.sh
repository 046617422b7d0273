#!/usr/bin/env bash
# How the shipped embedded model is trained on a GPU host (README: "Training the embedded model").
#
#   bash scripts/train_lm_gpu.sh BUNDLE RUN SECONDS
#
# BUNDLE comes from `bowerbird train lm-bundle --out BUNDLE` on the machine whose corpus is
# wanted (the GPU host needs none of it, nor this project's index dependencies); RUN is the run
# folder; SECONDS is the wall time for everything: the first call tokenizes the bundle on all
# cores, the second trains with a cosine schedule fitted to the time that is left and keeps
# three snapshots for a held-out curve. Settings can be changed through the environment.
set -euo pipefail
bundle=$1 run=$2 budget=$3
started=$(date +%s)
python=${PYTHON:-python3}
common=(--run "$run" --bundle "$bundle" --init-from "${INIT_FROM:-embedded}" --sequences "${SEQUENCES:-240000}"
        --batch "${BATCH:-256}" --lr "${LR:-2e-3}" --warmup "${WARMUP:-100}" --checkpoint-every 2000
        --device "${DEVICE:-cuda}")
"$python" -m bowerbird train lm "${common[@]}" --steps 0
left=$((budget - ($(date +%s) - started) - ${RESERVE:-30}))
echo "data ready after $(($(date +%s) - started)) s; training for $left s" >&2
"$python" -m bowerbird train lm "${common[@]}" --minutes "$("$python" -c "print(max($left, 30) / 60)")" \
    --fit-schedule --snapshots "${SNAPSHOTS:-3}" --json
