// The part of svgcanvas (a mock CanvasRenderingContext2D that records SVG) that figureSvg.ts uses.
declare module 'svgcanvas' {
  export class Context {
    constructor(options: { width: number; height: number });
    /** The root <svg> element drawn so far. */
    getSvg(): SVGSVGElement;
  }
}
