// @ts-check
/**
 * Keeps the host's iframe the height of the page: asks the host's all.js (AP.resize) once now and again whenever the
 * body changes size. Without all.js (a page opened on its own) the iframe keeps the size the host gave it.
 */

/** @typedef {{ resize(width?: string, height?: string): void }} HostApi */

export function fitToContent() {
  const ap = /** @type {{ AP?: HostApi }} */ (/** @type {unknown} */ (window)).AP;
  if (ap === undefined) return;
  const resize = () => ap.resize();
  new ResizeObserver(resize).observe(document.body);
  resize();
}
