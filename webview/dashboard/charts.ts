// A time-series chart of the dashboard: uPlot on a canvas, coloured from the theme's chart
// variables (a canvas cannot use CSS), drawn again on a theme switch and fitted to its box.
import uPlot from 'uplot';
import 'uplot/dist/uPlot.min.css';
import { themeColor } from '../shared/theme.js';

export interface Line {
  label: string;
  /** A `--vscode-charts-*` variable. */
  color: string;
  /** The right-hand axis, in its own unit. */
  right?: boolean;
  dash?: boolean;
  /** Dots at each value: a mean between gaps is a single point, which a line alone does not draw. */
  points?: boolean;
}

export interface Units {
  left: (value: number) => string;
  right?: (value: number) => string;
  /** The left axis reaches at least this high, so an empty or flat chart has sensible ticks. */
  floor: number;
}

const HEIGHT = 170;

export class Chart {
  private plot: uPlot | undefined;
  private data: uPlot.AlignedData = [[]];
  private readonly resizes = new ResizeObserver(() => this.plot?.setSize({ width: this.width(), height: HEIGHT }));

  constructor(private readonly box: HTMLElement, private readonly lines: Line[], private readonly units: Units) {
    this.resizes.observe(box);
  }

  /** New data, drawn into the chart there is (so the cursor and legend stay), or a first one. */
  show(data: uPlot.AlignedData): void {
    this.data = data;
    if (this.plot) this.plot.setData(data);
    else this.draw();
  }

  /** Draws it anew: the theme's colours are read when the chart is made. */
  draw(): void {
    this.plot?.destroy();
    const text = themeColor('--vscode-foreground', '#888');
    const grid = themeColor('--vscode-editorWidget-border', themeColor('--vscode-panel-border', '#8884'));
    const font = `11px ${themeColor('--vscode-font-family', 'sans-serif')}`;
    const axis = (format: (v: number) => string, right = false): uPlot.Axis => ({
      scale: right ? 'right' : 'y',
      side: right ? 1 : 3,
      stroke: text,
      font,
      grid: { show: !right, stroke: grid, width: 1 },
      ticks: { stroke: grid, width: 1 },
      size: 72,
      values: (_u, values) => values.map((v) => (v === null ? '' : format(v))),
    });
    this.plot = new uPlot({
      width: this.width(),
      height: HEIGHT,
      scales: { x: { time: true }, y: { range: (_u, min, max) => [Math.min(0, min ?? 0), Math.max(max ?? 0, this.units.floor)] } },
      series: [
        {},
        ...this.lines.map((l): uPlot.Series => ({
          label: l.label,
          scale: l.right ? 'right' : 'y',
          stroke: themeColor(l.color, text),
          width: 2,
          dash: l.dash ? [5, 5] : undefined,
          points: { show: l.points === true, size: 5, fill: themeColor(l.color, text) },
          value: (_u, v) => (v === null ? '–' : (l.right ? this.units.right! : this.units.left)(v)),
        })),
      ],
      axes: [{ stroke: text, font, grid: { stroke: grid, width: 1 }, ticks: { stroke: grid, width: 1 } }, axis(this.units.left), ...(this.units.right ? [axis(this.units.right, true)] : [])],
    }, this.data, this.box);
  }

  private width(): number {
    return Math.max(200, this.box.clientWidth);
  }
}
