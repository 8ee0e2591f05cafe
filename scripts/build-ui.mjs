// Builds the chat widget (and, as they move over, the desk's pages) from contact_center/web/ui/
// into contact_center/web/static/build/: one minified file per page, its dependencies bundled in.
// Run by the Makefile after `npm ci`; `node scripts/build-ui.mjs --watch` rebuilds on every change.
import * as esbuild from "esbuild";

const options = {
  entryPoints: {
    widget: "contact_center/web/ui/widget/main.jsx",
    desk: "contact_center/web/ui/desk/main.jsx",
    callback: "contact_center/web/ui/callback/main.jsx",
  },
  outdir: "contact_center/web/static/build",
  bundle: true,
  minify: true,
  sourcemap: true,
  format: "iife",
  target: ["es2020"],
  jsx: "automatic",
  jsxImportSource: "preact",
  loader: { ".css": "text" },
  logLevel: "warning",
};

// The stylesheets that come with the libraries the pages use (uPlot's, for the dashboard's charts).
const styles = {
  entryPoints: { "desk-charts": "node_modules/uplot/dist/uPlot.min.css" },
  outdir: "contact_center/web/static/build",
  bundle: true,
  minify: true,
  logLevel: "warning",
};

if (process.argv.includes("--watch")) {
  const context = await esbuild.context(options);
  await context.watch();
} else {
  await Promise.all([esbuild.build(options), esbuild.build(styles)]);
}
