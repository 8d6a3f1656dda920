#!/usr/bin/env bash
# tests/weights/data/make_broken.sh - regenerate the small broken .senti files in
# this directory (each from the tiny test model, one defect each), then run the
# file tests against them. Commit the resulting files.
#   usage: tests/weights/data/make_broken.sh [BUILD_DIR]   (default build/release)
set -euo pipefail
cd "$(dirname "$0")/../../.."
O="${1:-${O:-build/release}}"
make -s O="$O" "$O/tests/weights/test_file"
SENTI_REGEN_BROKEN=tests/weights/data "$O/tests/weights/test_file"
ls -l tests/weights/data/*.senti
