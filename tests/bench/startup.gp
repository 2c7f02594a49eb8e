# gnuplot -e "datafile='startup.dat'; outfile='startup.svg'; subtitle='...'" startup.gp
# startup.dat (from bench.py): "label" median q1 q3 min max kind, tab-separated;
# kind is 1 for sbx, 2 for the limit program (limit.c), 0 for a peer.
# Horizontal bars, so that no label needs rotating (SVG renderers disagree
# about rotated text).
set terminal svg size 860,520 dynamic font "sans,12" background rgb "white"
set output outfile
set datafile separator "\t"
set title "Start-up + teardown of /bin/true in the same busybox rootfs\n{/*0.8 ".subtitle."}"
set xlabel "milliseconds (bar = median, whisker = min to max)"
set style fill solid 0.85 border rgb "#333333"
set grid xtics lc rgb "#dddddd"
set border 3
set xtics nomirror
set ytics nomirror scale 0
unset key
stats datafile using 2 nooutput
n = STATS_records
mmax = STATS_max
stats datafile using 6 nooutput
# Whiskers past 2.2x the largest median are clipped there; room is left to
# the right of the longest one for its label.
wl = STATS_max < mmax * 2.2 ? STATS_max : mmax * 2.2
xmax = wl * 1.16
set xrange [0:xmax]
set yrange [n - 0.4:-0.6]
set lmargin 25
set rmargin 4
# Medians as bars (sbx blue, the limit program green, peers grey), min-max as whiskers, the median
# printed past the whisker.
plot datafile using ($2 / 2):0:(0):2:($0 - 0.32):($0 + 0.32):($7 == 1 ? 0x3b6ea5 : $7 == 2 ? 0x4d8f55 : 0x9a9a9a):ytic(1) \
        with boxxyerror lc rgb variable, \
     '' using 5:0:(($6 > wl ? wl : $6) - $5):(0) \
        with vectors heads size screen 0.004,90 lc rgb "#444444", \
     '' using (($6 > wl ? wl : $6) + xmax * 0.012):0:(sprintf("%.1f ms", $2)) \
        with labels left font "sans,11"
