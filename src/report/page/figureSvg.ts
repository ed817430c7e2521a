/// <reference lib="dom" />
// Vector SVG of each report figure, for papers: run inside the report page (bundled by
// ../exportFigures.ts and injected only while exporting, so the report itself stays small).
// Each Chart.js chart is drawn again into svgcanvas, a mock 2D context that records SVG paths
// and text, and put in its canvas's place; dom-to-svg then turns the whole figure (caption,
// tables, heatmap cells, the charts' SVG) into SVG elements, without <foreignObject>, so the
// files open in Inkscape, Illustrator and LaTeX's svg package. Pixel pictures (the
// misclassified digits) become embedded PNG images, enlarged without smoothing.
import type { Chart as ChartJs, ChartConfiguration } from 'chart.js';
import { elementToSVG } from 'dom-to-svg';
import { Context } from 'svgcanvas';

declare const Chart: typeof ChartJs & { BasicPlatform: ChartConfiguration['platform'] };

declare global {
  interface Window {
    /** figure name (data-figure) → SVG text. */
    __dsdcFigureSvgs?: () => Record<string, string>;
  }
}

/** The chart on `canvas` drawn again, at its CSS size, as an <svg> element. */
function chartAsSvg(chart: ChartJs, canvas: HTMLCanvasElement): SVGSVGElement {
  const { width, height } = canvas.getBoundingClientRect();
  const context = new Context({ width: Math.round(width), height: Math.round(height) });
  // Chart.js takes a context whose .canvas gives it back (svgcanvas's .canvas is itself).
  Object.assign(context, { getContext: () => context });
  const { data, options } = chart.config;
  const copy = new Chart(context as unknown as CanvasRenderingContext2D, {
    type: (chart.config as { type: string }).type,
    // svgcanvas has no clip() paths and no Path2D: no clipping to the chart area, and a
    // (empty) `segment` option makes Chart.js draw lines with lineTo instead of Path2D.
    data: { ...data, datasets: data.datasets.map((d) => ({ ...d, clip: false, segment: {} })) },
    options: { ...options, responsive: false, animation: false, devicePixelRatio: 1 },
    platform: Chart.BasicPlatform,
  } as ChartConfiguration);
  // Clone before destroy(): destroying clears the context, which empties svgcanvas's drawing.
  const svg = context.getSvg().cloneNode(true) as SVGSVGElement;
  copy.destroy();
  svg.style.display = 'block';
  return svg;
}

/** A pixel canvas as an <img> at its CSS size, enlarged nearest-neighbour so no viewer blurs it. */
function pixelsAsImage(canvas: HTMLCanvasElement): HTMLImageElement {
  const { width, height } = canvas.getBoundingClientRect();
  const big = Object.assign(document.createElement('canvas'), { width: Math.round(width), height: Math.round(height) });
  const g = big.getContext('2d')!;
  g.imageSmoothingEnabled = false;
  g.drawImage(canvas, 0, 0, big.width, big.height);
  const img = Object.assign(document.createElement('img'), { src: big.toDataURL('image/png'), width: big.width, height: big.height });
  img.style.cssText = getComputedStyle(canvas).cssText;
  return img;
}

window.__dsdcFigureSvgs = () => {
  const out: Record<string, string> = {};
  for (const figure of document.querySelectorAll<HTMLElement>('[data-figure]')) {
    const swaps: Array<[Element, HTMLCanvasElement]> = [];
    for (const canvas of figure.querySelectorAll('canvas')) {
      const chart = Chart.getChart(canvas);
      const standIn = chart ? chartAsSvg(chart, canvas) : pixelsAsImage(canvas);
      canvas.replaceWith(standIn);
      swaps.push([standIn, canvas]);
    }
    try {
      out[figure.dataset.figure!] = new XMLSerializer().serializeToString(elementToSVG(figure));
    } finally {
      for (const [standIn, canvas] of swaps) standIn.replaceWith(canvas);
    }
  }
  return out;
};
