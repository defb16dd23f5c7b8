#!/usr/bin/env bash
# Tear down the mipsa namespace testbed (idempotent): stops the processes
# inside the "${TB_PREFIX:-mipsa}-*" namespaces and deletes them.
set -euo pipefail
# shellcheck source-path=SCRIPTDIR source=lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

tb_down
