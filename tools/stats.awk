# Order statistics of a space-separated list of numbers, for the benchmark
# scripts' summaries (tools/bench-store.sh, tools/ike-rate.sh,
# testbed/throughput.sh), which put this text ahead of their own program.

# sorted(list, a): split list into a[1..n], ascending; returns n.
# mawk has no asort, and a summary sorts only the few values of one row.
function sorted(list, a,   n, i, j, v) {
	n = split(list, a, " ")
	for (i = 2; i <= n; i++) {
		v = a[i] + 0
		for (j = i - 1; j >= 1 && a[j] + 0 > v; j--)
			a[j + 1] = a[j]
		a[j + 1] = v
	}
	return n
}
# median of an even count: the mean of the middle two; of nothing: ""
function median(list,   a, n) {
	if (list == "") return ""
	n = sorted(list, a)
	return n % 2 ? a[(n + 1) / 2] : (a[n / 2] + a[n / 2 + 1]) / 2
}
function lo(list,   a) { sorted(list, a); return a[1] }
function hi(list,   a) { return a[sorted(list, a)] }
