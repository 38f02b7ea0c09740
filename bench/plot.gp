# SPDX-License-Identifier: GPL-2.0
# Plots of a benchmark run, from the data files flakeid-bench report wrote.
#   gnuplot -e "scaling='scaling.dat'; cost='cost.dat'; outdir='DIR'; stamp='module at COMMIT'" plot.gp
# scaling.png: ns per ID against threads, one line per mode and layout, as
# wall time (the inverse of throughput) and as CPU time.
# cost.png: one thread's ns per ID in every mode, floor / flakeid / peers.

if (!exists("stamp")) stamp = "module at an unknown commit"

set terminal pngcairo size 1400,560 font ",10" noenhanced
set output outdir . '/scaling.png'

stats scaling using 1 nooutput
nblocks = STATS_blocks

# Blocks come in pairs, one mode in its two layouts: the mode picks the
# colour, the layout the line (default solid, wide-seq dashed).
set linetype 1 lc rgb "#1f77b4" lw 2
set linetype 2 lc rgb "#ff7f0e" lw 2
set linetype 3 lc rgb "#2ca02c" lw 2
set linetype 4 lc rgb "#d62728" lw 2
set linetype 5 lc rgb "#9467bd" lw 2
set linetype 6 lc rgb "#8c564b" lw 2
set linetype cycle 6

set multiplot layout 1,2 title "flakeid-bench: ns per ID by mode and thread count (QEMU TCG guest, " . stamp . "; medians, bars: min-max)"
set logscale x 2
set logscale y 10
set xrange [0.8:10]
set xtics (1, 2, 4, 8)
set xlabel "threads"
set grid ytics mytics xtics
set key outside right top vertical

set title "wall-clock ns per ID (1 / throughput)"
set ylabel "ns per ID"
unset key
plot for [i=0:nblocks-1] scaling index i using 1:2:3:4 with yerrorlines lt (i/2+1) dt 1+i%2 pt (7-i%2) title columnheader(1)

set title "CPU ns per ID (all threads' CPU time / IDs)"
set ylabel "CPU ns per ID"
set key outside right top vertical
plot for [i=0:nblocks-1] scaling index i using 1:5:6:7 with yerrorlines lt (i/2+1) dt 1+i%2 pt (7-i%2) title columnheader(1)
unset multiplot

set terminal pngcairo size 1100,560 font ",10" noenhanced
set output outdir . '/cost.png'
reset
set title "flakeid-bench: one thread, ns per ID (QEMU TCG guest, " . stamp . "; medians, bars: min-max)"
set logscale y 10
set ylabel "ns per ID"
set grid ytics mytics
set style fill solid 0.6 border -1
set boxwidth 0.7
set xtics rotate by -40 left noenhanced
set xrange [-0.8:*]
set yrange [1:*]
set bmargin 8
set rmargin 8
set key top left
plot cost using 1:($6 == 0 ? $3 : 1/0) with boxes lc rgb "#888888" title "syscall floor", \
     cost using 1:($6 == 1 ? $3 : 1/0) with boxes lc rgb "#1f77b4" title "flakeid", \
     cost using 1:($6 == 2 ? $3 : 1/0) with boxes lc rgb "#d62728" title "peers", \
     cost using 1:3:4:5:xtic(2) with yerrorbars lc rgb "black" pt -1 notitle
