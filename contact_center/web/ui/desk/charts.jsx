// Charts of the supervisor's dashboard, drawn by uPlot (npm `uplot`): small, fast, canvas only.
// A chart is made once per set of series and given new data as the dashboard changes; its
// figure carries a text label with what it shows, for those who do not see the canvas.
import { useEffect, useRef } from "preact/hooks";
import uPlot from "uplot";

/** A share (0.85) as the language writes a percentage; "–" when there is none yet. */
export function percent(share, t) {
  if (share === null || share === undefined) return t("desk.dash.none");
  return new Intl.NumberFormat(t.language, { style: "percent", maximumFractionDigits: 1 }).format(share);
}

export const CHANNEL_COLOURS = { chat: "#1f6feb", call: "#8250df", callback: "#bf8700", email: "#1a7f37" };

/** A uPlot chart: ``series`` are [{label, stroke, dash?}] after the x axis; ``data`` is [xs, ...ys]. With
 * ``xValues`` the xs are 0, 1, 2, ... and ``xValues(i)`` names each on the axis and in the legend; ``xLabel``
 * names the x axis in the legend, ``xRange`` fixes its span. */
export function Chart({ id, title, label, series, data, yRange, xRange = null, xTime = false, xValues = null, xLabel = null, width = 420, height = 180 }) {
  const box = useRef(null);
  const plot = useRef(null);
  const key = [xLabel, ...series.map((s) => s.label)].join("|");  // new labels (another language): a new chart
  useEffect(() => {
    const opts = {
      width, height,
      scales: { x: xRange ? { time: xTime, range: xRange } : { time: xTime }, y: yRange ? { range: yRange } : {} },
      series: [{ ...(xLabel ? { label: xLabel } : {}), ...(xValues ? { value: (u, v) => (v === null ? "" : xValues(v)) } : {}) },
        ...series.map((s) => ({ label: s.label, stroke: s.stroke, width: 2, dash: s.dash, spanGaps: true }))],
      axes: [xValues ? { incrs: [1, 2, 3], values: (u, splits) => splits.map((v) => (Number.isInteger(v) ? xValues(v) : "")) } : {}, { size: 48 }],
      legend: { show: true },
    };
    plot.current = new uPlot(opts, data, box.current);
    return () => { plot.current.destroy(); plot.current = null; };
  }, [key, width, height]);
  useEffect(() => { if (plot.current) plot.current.setData(data); }, [data]);
  return (
    <figure class="chart" id={id}>
      <figcaption>{title}</figcaption>
      <div ref={box} role="img" aria-label={label} />
    </figure>
  );
}
