// d3-node ships no types: the part AMS uses. It hands back the full d3 module and a jsdom window.
declare module "d3-node" {
  export class D3Node {
    constructor(options?: { container?: string; selector?: string });
    d3: typeof import("d3");
    document: Document;
    window: Window & typeof globalThis;
  }
}
