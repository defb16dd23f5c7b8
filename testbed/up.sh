#!/usr/bin/env bash
# Build the mipsa namespace testbed (namespaces "${TB_PREFIX:-mipsa}-*").
# Leaves it running; tear down with testbed/down.sh.
set -euo pipefail
# shellcheck source-path=SCRIPTDIR source=lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

tb_up
printf 'testbed "%s" up: namespaces' "${TB_PREFIX:-mipsa}"
for n in "${TB_NODES[@]}"; do
	printf ' %s' "$(tb_ns "$n")"
done
printf '\nMN attached to %s\n' "$(tb_where)"
