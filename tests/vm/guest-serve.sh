#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-only
#
# guest-serve.sh - runs INSIDE the QEMU guest (as /guest.sh) whose vsock
# device is vsock-refdev serve (tests/vm/serve-tier.sh starts both). The
# scenario comes from the kernel command line, vstest=NAME:
#
#   clean    guest -> host and host -> guest streams (1 B, 64 KiB and 1 MiB
#            writes, 32 connections at once), then a guest writer whose host
#            reader pauses (credit stall), all in one capture "serve";
#            then a vsock_loopback credit stall in a capture "loopback",
#            analysed here by the static vsock-report
#   credit   a 2.5 s guest -> host stream (serve withholds credit)
#   irq      a 2.5 s host -> guest stream (serve drops a call)
#   refill   a 2.5 s host -> guest stream (serve stops taking rx buffers)
#   trace    vsock-trace's backends on 1 MiB over vsock_loopback and 1 MiB
#            through serve
#   bench    64 MiB guest -> host through serve, then over vsock_loopback,
#            three times
#   tracebench  vsock_loopback with no capture, with vsock-trace's tracefs
#            and BPF backends (and the extra runs vstbp= asks for), in
#            turn, five rounds of 32 MiB (vstbr=, vstbm=)
#
# Captures use a private tracefs instance and go to the host over vsock
# itself (vsockio put to host port 7900 + n) once tracing has stopped; their
# md5 is printed on the console for the host to check.
# Lines the host reads: "guest: ..." and vsockio's own "vsockio: ...".

T=/sys/kernel/tracing
I=$T/instances/vstest
scn=$(sed -n 's/.*vstest=\([a-z]*\).*/\1/p' /proc/cmdline)
MiB=1048576
ship_port=7900

echo "guest: scenario $scn"

trace_start() {
	[ -d "$T/events" ] || mount -t tracefs tracefs "$T" || return 1
	[ -d "$I" ] || mkdir "$I" || return 1
	echo 0 >"$I/tracing_on"
	echo 16384 >"$I/buffer_size_kb"
	echo 'bytes_req>=4096' >"$I/events/kmem/kmalloc/filter"
	for e in vsock/virtio_transport_alloc_pkt \
		 vsock/virtio_transport_recv_pkt irq/irq_handler_entry \
		 kmem/kmalloc kmem/mm_page_alloc; do
		echo 1 >"$I/events/$e/enable" || echo "guest: cannot enable $e"
	done
	: >"$I/trace"
	echo 1 >"$I/tracing_on"
}

# trace_ship NAME: stop, check nothing was lost, send it to the host
trace_ship() {
	echo 0 >"$I/tracing_on"
	for s in "$I"/per_cpu/cpu*/stats; do
		echo "guest: $1 $(basename "$(dirname "$s")"):" \
		     "$(grep -E '^(overrun|dropped events):' "$s" |
			tr '\n' ' ' | sed 's/ *$//; s/  */ /g')"
	done
	cat "$I/trace" >"/tmp/$1.trace"
	echo "guest: $1 lines $(wc -l <"/tmp/$1.trace") md5 $(md5sum <"/tmp/$1.trace" | cut -d' ' -f1)"
	vsockio put "vsock:2:$ship_port" "/tmp/$1.trace" -r 5000
	echo "guest: shipped $1 exit $? port $ship_port"
	ship_port=$((ship_port + 1))
}

# ready FILE: until vsock-trace says it captures (BPF attaches fentry
# trampolines, each an RCU-tasks grace period: seconds under emulation)
ready() {
	i=0
	while ! grep -q 'capturing' "$1" 2>/dev/null && [ $i -lt 600 ]; do
		sleep 0.1
		i=$((i + 1))
	done
	echo "guest: capture ready after $((i / 10)).$((i % 10)) s"
}

interrupts() {
	grep -i virtio /proc/interrupts | sed 's/^/guest: irq /'
}

case $scn in
clean)
	trace_start
	interrupts
	vsockio send vsock:2:7000 -b 4096 -w 1;           echo "guest: g2h-1B exit $?"
	vsockio send vsock:2:7001 -n 32 -b 262144 -w 65536; echo "guest: g2h-32conn exit $?"
	vsockio send vsock:2:7002 -b $((4 * MiB)) -w $MiB; echo "guest: g2h-1MiB exit $?"
	vsockio recv vsock:7100 >/tmp/r1 & p1=$!
	vsockio recv vsock:7101 -n 32 >/tmp/r2 & p2=$!
	vsockio recv vsock:7102 >/tmp/r3 & p3=$!
	sleep 0.2
	vsockio put vsock:2:7099 /dev/null # tell the host we listen
	wait $p1; echo "guest: h2g-1B exit $? $(tail -n 1 /tmp/r1)"
	wait $p2; echo "guest: h2g-32conn exit $? $(tail -n 1 /tmp/r2)"
	wait $p3; echo "guest: h2g-1MiB exit $? $(tail -n 1 /tmp/r3)"
	echo "guest: stall start"
	vsockio send vsock:2:7200 -b $((8 * MiB)) -w 65536; echo "guest: stall exit $?"
	sleep 0.3
	trace_ship serve
	# vsock_loopback, analysed in here by the static vsock-report
	trace_start
	stallpair -m "$I/trace_marker" -p 5000; echo "guest: stallpair exit $?"
	trace_ship loopback
	vsock-report /tmp/loopback.trace | sed 's/^/guest: report: /'
	echo "guest: loopback report exit $?"
	;;
credit)
	trace_start
	vsockio send vsock:2:7000 -t 2500 -w 65536; echo "guest: credit exit $?"
	sleep 0.3
	trace_ship serve
	;;
irq | refill)
	trace_start
	vsockio recv vsock:7100 >/tmp/r1 & p1=$!
	sleep 0.2
	vsockio put vsock:2:7099 /dev/null
	wait $p1; echo "guest: $scn exit $? $(tail -n 1 /tmp/r1)"
	sleep 0.3
	trace_ship serve
	;;
trace)
	# vsock-trace in here: a known workload over vsock_loopback and
	# through serve, captured by each backend in turn
	for b in tracefs bpf; do
		vsockio recv vsock:7400 >/tmp/r1 & p1=$!
		rm -f /tmp/$b.err
		vsock-trace -b $b -p vsock,vring,irq -o /tmp/cap-$b.vscap 2>/tmp/$b.err & tp=$!
		ready /tmp/$b.err
		vsockio send vsock:1:7400 -b $MiB -w 65536 >/dev/null
		wait $p1
		vsockio send vsock:2:7000 -b $MiB -w 65536 >/dev/null
		echo "guest: $b workload done"
		sleep 0.3
		kill -INT $tp
		wait $tp
		echo "guest: vsock-trace $b exit $?"
		sed "s/^/guest: $b: /" /tmp/$b.err
		echo "guest: cap-$b lines 0 md5 $(md5sum </tmp/cap-$b.vscap | cut -d' ' -f1)"
		vsockio put "vsock:2:$ship_port" /tmp/cap-$b.vscap -r 5000
		ship_port=$((ship_port + 1))
	done
	# killed in the middle of a capture: readable up to the last record
	vsockio recv vsock:7401 >/tmp/r2 & p2=$!
	vsock-trace -b tracefs -p vsock -o /tmp/cap-kill.vscap 2>/tmp/k.err & tp=$!
	ready /tmp/k.err
	vsockio send vsock:1:7401 -b $((16 * MiB)) -w 4096 >/dev/null & p3=$!
	sleep 0.5
	kill -KILL $tp
	wait $p3 $p2
	echo "guest: cap-kill lines 0 md5 $(md5sum </tmp/cap-kill.vscap | cut -d' ' -f1)"
	vsockio put "vsock:2:$ship_port" /tmp/cap-kill.vscap -r 5000
	# vsocktop -b on live traffic: three loopback connections for 3 s
	# and one through serve, while it runs
	vsocktop -b -n 6 -d 1 --probes vsock -o flow --name guest \
		>/tmp/top.txt 2>/tmp/top.err & tt=$!
	ready /tmp/top.err
	vsockio recv vsock:7410 -n 3 >/tmp/r3 & p1=$!
	sleep 0.2
	vsockio send vsock:1:7410 -n 3 -t 3000 -w 4096 >/dev/null & p2=$!
	vsockio send vsock:2:7000 -b $MiB -w 65536 >/dev/null
	wait $p2 $p1
	wait $tt
	echo "guest: vsocktop exit $?"
	sed 's/^/guest: top: /' /tmp/top.txt /tmp/top.err
	;;
tracebench)
	# vsock_loopback throughput with no capture, with tracefs, with BPF
	# (when the tool has it), in turn, five rounds; 32 MiB each
	backends="none tracefs"
	# BPF when this vsock-trace has it and the kernel takes it
	vsock-trace -b bpf -p irq -d 0.1 -q -o /dev/null 2>/dev/null &&
		backends="$backends bpf"
	# vstbp=LIST/LIST...: also BPF with each of these probe lists
	tbp=$(sed -n 's|.*vstbp=\([a-z0-9,/@]*\).*|\1|p' /proc/cmdline)
	case $backends in
	*bpf*)
		for p in $(echo "$tbp" | tr '/' ' '); do
			backends="$backends bpf-$p"
		done
		;;
	esac
	echo "guest: tracebench backends $backends"
	echo "guest: tracebench clocksource $(cat /sys/devices/system/clocksource/clocksource0/current_clocksource)" \
		"(available: $(cat /sys/devices/system/clocksource/clocksource0/available_clocksource))"
	# vstbr=ROUNDS, vstbm=MIB: other than 5 rounds of 32 MiB
	tbr=$(sed -n 's/.*vstbr=\([0-9]*\).*/\1/p' /proc/cmdline)
	tbm=$(sed -n 's/.*vstbm=\([0-9]*\).*/\1/p' /proc/cmdline)
	# (not $i: ready() counts in it)
	for round in $(seq ${tbr:-5}); do
		for b in $backends; do
			tp=
			if [ $b != none ]; then
				rm -f /tmp/tb.err
				case $b in
				bpf-*@*) x=${b#bpf-}; set -- vsock-trace-${x#*@} -b bpf -p "${x%@*}" ;;
				bpf-*) set -- vsock-trace -b bpf -p "${b#bpf-}" ;;
				*) set -- vsock-trace -b $b ;;
				esac
				"$@" -o /tmp/tb.vscap 2>/tmp/tb.err & tp=$!
				ready /tmp/tb.err
			fi
			vsockio recv vsock:7500 >/tmp/r1 & p1=$!
			sleep 0.2
			# the capture's own CPU time while the stream runs
			c0=$(cut -d' ' -f1 /proc/${tp:-self}/schedstat)
			vsockio send vsock:1:7500 -b $((${tbm:-32} * MiB)) -w 65536 | sed "s/^/guest: tracebench $b /"
			c1=$(cut -d' ' -f1 /proc/${tp:-self}/schedstat)
			wait $p1
			if [ -n "$tp" ]; then
				kill -INT $tp
				wait $tp
				echo "guest: tracebench $b capture $(wc -c </tmp/tb.vscap) bytes, $(((c1 - c0) / 1000000)) ms CPU while sending;" \
					"$(sed -n 's/^vsock-trace: .* backend, \([0-9]* events.*\)/\1/p' /tmp/tb.err)"
				# what did not attach (the first round says it)
				[ $round != 1 ] || grep 'refused' /tmp/tb.err | sed "s/^/guest: tracebench $b /"
				rm -f /tmp/tb.vscap
			fi
		done
	done
	;;
bench)
	# three rounds, alternating, 64 MiB each: the host takes the best
	for i in 1 2 3; do
		vsockio send vsock:2:7000 -b $((64 * MiB)) -w 65536 | sed 's/^/guest: bench serve /'
		vsockio recv vsock:7300 >/tmp/r1 &
		sleep 0.2
		vsockio send vsock:1:7300 -b $((64 * MiB)) -w 65536 | sed 's/^/guest: bench loopback /'
		wait
		echo "guest: bench loopback recv $(tail -n 1 /tmp/r1)"
	done
	;;
*)
	echo "guest: unknown scenario '$scn'"
	exit 1
	;;
esac
