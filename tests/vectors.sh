# SPDX-License-Identifier: MIT
# shellcheck shell=sh
# The decode vectors (bindings/testdata/decode.tsv) in the guest, sourced as
# /vectors.sh after /tap.sh (tests/qemu/run-guest.sh puts both in every
# initramfs).  Busybox sh.
#
#   vectors_each_config TSV KO CMD...
#       For each epoch and layout of TSV: flakeid reloaded from KO with
#       them and the wall clock set a day past the epoch (most of these
#       configurations ran out of timestamps long ago and cannot load
#       today; the kernel refuses a clock below the uptime, so never that
#       low), then `CMD... EPOCH LAYOUT`.  An insmod that fails is a
#       failing result.  Then flakeid is unloaded and the clock put back.
#       VEC_CONFIGS says how many configurations there were.
#   vectors_used_up KO CMD...
#       flakeid loaded from KO with layout 32:0:0:0:32 and an epoch whose
#       timestamp field ends 2 s from now; once reads fail (10 s at most),
#       `CMD...`; then flakeid is unloaded.

vec_uptime() { cut -d. -f1 /proc/uptime; }

vectors_each_config() {
	vec_tsv=$1 vec_ko=$2
	shift 2
	vec_t0=$(date +%s)
	vec_u0=$(vec_uptime)
	VEC_CONFIGS=0
	grep -v '^#' "$vec_tsv" | grep . | cut -f1,2 | sort -u | tr '\t' ' ' \
		>/tmp/vectors.configs
	while read -r vec_epoch vec_layout; do
		VEC_CONFIGS=$((VEC_CONFIGS + 1))
		rmmod flakeid 2>/dev/null
		date -s "@$((vec_epoch / 1000 + 86400 + $(vec_uptime)))" >/dev/null
		if insmod "$vec_ko" "epoch_ms=$vec_epoch" "layout=$vec_layout" \
			2>/tmp/vectors.insmod; then
			"$@" "$vec_epoch" "$vec_layout" </dev/null
		else
			not_ok "insmod epoch_ms=$vec_epoch layout=$vec_layout ($(tr '\n' ' ' </tmp/vectors.insmod))"
		fi
	done </tmp/vectors.configs
	rmmod flakeid 2>/dev/null
	date -s "@$((vec_t0 + $(vec_uptime) - vec_u0))" >/dev/null
}

vectors_used_up() {
	vec_ko=$1
	shift
	rmmod flakeid 2>/dev/null
	vec_e=$(($(date +%s) * 1000 - 4294967296 + 2000))
	if ! insmod "$vec_ko" layout=32:0:0:0:32 "epoch_ms=$vec_e" \
		2>/tmp/vectors.insmod; then
		not_ok "insmod layout=32:0:0:0:32 epoch_ms=$vec_e ($(tr '\n' ' ' </tmp/vectors.insmod))"
		return
	fi
	vec_i=0
	while [ $vec_i -lt 100 ] && head -c 8 /dev/flakeid >/dev/null 2>&1; do
		sleep 0.1
		vec_i=$((vec_i + 1))
	done
	"$@"
	rmmod flakeid
}
