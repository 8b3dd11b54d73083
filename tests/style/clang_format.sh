#!/usr/bin/env bash
# Every C++ source follows .clang-format (apply with: clang-format -i <files>).
set -euo pipefail
root="$1"
cd "$root"
mapfile -t files < <(find core dist preprocess jobs tools tests -name '*.cpp' -o -name '*.h' | sort)
clang-format --dry-run --Werror "${files[@]}"
echo "ok: ${#files[@]} files formatted"
