#!/usr/bin/env bash
# Hand-over: move the MN's link to another FA.
#   move.sh fa1|fa2|fa3   move (TB_MOVES_FILE=FILE records "<start_us> <end_us> <from> <to>")
#   move.sh               print the FA the MN is attached to
set -euo pipefail
# shellcheck source-path=SCRIPTDIR source=lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

if [[ $# -eq 0 ]]; then
	tb_where
elif [[ $# -eq 1 ]]; then
	tb_move "$1"
else
	echo "usage: $0 [fa1|fa2|fa3]" >&2
	exit 1
fi
