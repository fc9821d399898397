#!/usr/bin/env bash
# Builds the HL7 fuzz target with clang's libFuzzer (with address and undefined
# behaviour sanitizers) and runs it for SECONDS (default 20) from the seed corpus
# in corpus/hl7. Exits non-zero on a crash, a leak or a hang (any input over 5 s).
# Usage: bash tests/fuzz/run.sh [SECONDS] [BUILD_DIR]
set -euo pipefail
cd "$(dirname "$0")/../.."
seconds="${1:-20}"
out="${2:-build/fuzz}"
mkdir -p "$out/corpus"
cp tests/fuzz/corpus/hl7/* "$out/corpus/"
flags=(-std=c++20 -O1 -g -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=undefined -Isrc)
sources=(tests/fuzz/hl7_fuzz.cpp src/hl7/message.cpp src/hl7/ack.cpp src/results/oru.cpp src/results/json_text.cpp
         src/core/error.cpp src/core/hash.cpp src/core/nhs_number.cpp)
if [ ! -x "$out/hl7_fuzz" ] || [ -n "$(find "${sources[@]}" src/hl7 src/results/oru.hpp src/results/json_text.hpp -newer "$out/hl7_fuzz" | head -1)" ]; then
  clang++ "${flags[@]}" "${sources[@]}" -lfmt -lcrypto -o "$out/hl7_fuzz"
fi
"$out/hl7_fuzz" -max_total_time="$seconds" -timeout=5 -rss_limit_mb=2048 -print_final_stats=1 "$out/corpus" 2>&1 |
  grep -E "^#|stat::|ERROR|SUMMARY|Done" | tail -15
exit "${PIPESTATUS[0]}"
