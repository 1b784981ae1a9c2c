# SPDX-License-Identifier: GPL-2.0-only
# Makes a two-system trace pair: a host (CID 2) and a guest (CID 3) whose
# clock is the host's + OFF ns (+ DRIFT ppm), exchanging request/response
# packets with latencies of 30-90 us. Packet DROP (1-based, host→guest) is
# sent but never received; the guest keeps receiving the others. From host
# time SLEW_AT ns on, the guest's clock runs SLEW ppm faster still, as
# when NTP slews it (default: never). THINK ns at most (default 0) of
# random think time between exchanges makes the traffic less periodic.
#   awk -v OFF=1000123456789 -v N=200 -v DROP=77 -v DRIFT=0 \
#       -v HOST=h.trace -v GUEST=g.trace -f mkpair.awk
function ts(ns) { return sprintf("%d.%06d", int(ns / 1e9), int((ns % 1e9) / 1000)) }
function gclock(ns) {
	return ns + OFF + DRIFT * 1e-6 * ns + \
		(SLEW && ns > SLEW_AT ? SLEW * 1e-6 * (ns - SLEW_AT) : 0)
}
function hline(ns, comm, ev, args) {
	printf "%16s [000] ..... %s: %s: %s\n", comm, ts(ns), ev, args > HOST
}
function gline(ns, comm, ev, args) {
	printf "%16s [001] d.h1. %s: %s: %s\n", comm, ts(gclock(ns)), ev, args > GUEST
}
BEGIN {
	srand(7)
	print "# tracer: nop" > HOST
	print "# tracer: nop" > GUEST
	t = 5000000000
	hfwd = 0; gfwd = 0
	for (i = 1; i <= N; i++) {
		lat = 30000 + int(rand() * 60000)
		len = 100 + (i % 7)
		hline(t, "vhost-812-812", "virtio_transport_alloc_pkt", \
			sprintf("2:1024 -> 3:5000 len=%d type=STREAM op=RW flags=0x0", len))
		if (i != DROP) {
			gline(t + lat - 2000, "<idle>-0", "irq_handler_entry", "irq=24 name=virtio0-virtqueues")
			gfwd += len
			gline(t + lat, "kworker/1:1-33", "virtio_transport_recv_pkt", \
				sprintf("2:1024 -> 3:5000 len=%d type=STREAM op=RW flags=0x0 buf_alloc=262144 fwd_cnt=%d", len, hfwd))
		}
		t += lat + 200000
		lat = 30000 + int(rand() * 60000)
		gline(t, "server-90", "virtio_transport_alloc_pkt", \
			"3:5000 -> 2:1024 len=64 type=STREAM op=RW flags=0x0")
		hfwd += 64
		hline(t + lat, "vhost-812-812", "virtio_transport_recv_pkt", \
			sprintf("3:5000 -> 2:1024 len=64 type=STREAM op=RW flags=0x0 buf_alloc=262144 fwd_cnt=%d", gfwd))
		t += lat + 800000 + int(rand() * THINK)
	}
}
