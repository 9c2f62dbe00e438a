/** The one stylesheet, served from /assets/style.css so the CSP needs no 'unsafe-inline'. */
export const STYLESHEET = `
:root { --ink:#1d2330; --muted:#5b6475; --line:#d9dee7; --bg:#f5f7fa; --accent:#2457c5; --ok:#1f7a3d; --bad:#b42318; --warn:#9a6700; }
* { box-sizing: border-box; }
body { margin:0; font:15px/1.45 system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; color:var(--ink); background:var(--bg); }
header.top { background:#17233b; color:#fff; display:flex; align-items:center; gap:1.5rem; padding:.6rem 1.5rem; }
header.top .brand { font-weight:700; letter-spacing:.02em; color:#fff; text-decoration:none; }
header.top nav { display:flex; gap:1rem; flex:1; }
header.top nav a { color:#c9d6f2; text-decoration:none; padding:.2rem 0; }
header.top nav a.current { color:#fff; border-bottom:2px solid #8fb0ff; }
header.top .who { color:#c9d6f2; font-size:.9em; display:flex; gap:.6rem; align-items:center; }
header.top .who button { background:transparent; color:#fff; border:1px solid #5d6f96; }
main { max-width:1180px; margin:1.5rem auto; padding:0 1.5rem; }
h1 { font-size:1.5rem; margin:0 0 1rem; }
h2 { font-size:1.15rem; margin:1.5rem 0 .6rem; }
a { color:var(--accent); }
.card { background:#fff; border:1px solid var(--line); border-radius:8px; padding:1rem 1.25rem; margin-bottom:1rem; }
table { width:100%; border-collapse:collapse; background:#fff; border:1px solid var(--line); border-radius:8px; overflow:hidden; }
th, td { text-align:left; padding:.5rem .7rem; border-bottom:1px solid var(--line); vertical-align:top; }
th { background:#eef1f6; font-weight:600; font-size:.85em; text-transform:uppercase; letter-spacing:.03em; color:var(--muted); }
tr:last-child td { border-bottom:none; }
td.actions { white-space:nowrap; }
td.actions form { display:inline; }
.muted { color:var(--muted); }
.mono, code { font-family:ui-monospace, SFMono-Regular, Menlo, Consolas, monospace; font-size:.9em; }
.badge { display:inline-block; padding:.05rem .5rem; border-radius:999px; font-size:.8em; font-weight:600; background:#e6e9ef; color:var(--muted); }
.badge.active { background:#dcf3e4; color:var(--ok); }
.badge.disabled { background:#fde7e5; color:var(--bad); }
.badge.draft { background:#fff3d6; color:var(--warn); }
.tag { display:inline-block; background:#e8eefc; color:#23408e; border-radius:4px; padding:0 .35rem; margin:0 .2rem .2rem 0; font-size:.85em; }
button, .button { font:inherit; font-size:.9em; padding:.35rem .8rem; border-radius:6px; border:1px solid var(--line); background:#fff; color:var(--ink); cursor:pointer; text-decoration:none; display:inline-block; }
button.primary, .button.primary { background:var(--accent); border-color:var(--accent); color:#fff; }
button.danger { color:var(--bad); border-color:#f0b8b2; }
button.small, .button.small { font-size:.8em; padding:.2rem .5rem; vertical-align:middle; }
label { display:block; font-weight:600; font-size:.9em; margin-bottom:.2rem; }
input[type=text], input[type=password], input:not([type]), select, textarea { font:inherit; padding:.4rem .5rem; border:1px solid #c3cad6; border-radius:6px; background:#fff; width:100%; }
textarea { min-height:8rem; font-family:ui-monospace, Menlo, Consolas, monospace; font-size:.9em; }
.field { margin-bottom:.8rem; }
.grid2 { display:grid; grid-template-columns:1fr 1fr; gap:0 1rem; }
.grid4 { display:grid; grid-template-columns:repeat(4, 1fr); gap:0 1rem; }
.hint { color:var(--muted); font-size:.85em; margin-top:.15rem; }
.error-text { color:var(--bad); font-size:.85em; margin-top:.2rem; }
.invalid { border-color:var(--bad) !important; background:#fff8f7 !important; }
.flash { padding:.7rem 1rem; border-radius:6px; margin-bottom:1rem; border:1px solid; }
.flash.success { background:#ecf8f0; border-color:#a9dcb9; color:#14532d; }
.flash.error { background:#fdf0ef; border-color:#f0b8b2; color:#7a1a12; }
.flash.key { background:#fffbea; border-color:#f0d68a; color:#5c4300; }
.flash.key code { display:block; margin-top:.4rem; padding:.5rem; background:#fff; border:1px dashed #d9b84a; word-break:break-all; font-size:.95em; }
.group { border:1px solid var(--line); border-left:4px solid #8fb0ff; border-radius:6px; padding:.6rem .8rem; margin-bottom:.4rem; background:#fbfcfe; }
.group-head { display:flex; justify-content:space-between; align-items:center; margin-bottom:.4rem; font-weight:600; font-size:.9em; color:var(--muted); }
.or { text-align:center; color:var(--muted); font-weight:700; font-size:.8em; margin:.3rem 0; letter-spacing:.1em; }
.cond { display:grid; grid-template-columns:2.2fr 1.5fr .9fr 1fr 1.8fr .85fr .85fr auto; gap:.4rem; align-items:start; padding:.35rem 0; border-top:1px dashed var(--line); }
.cond:first-of-type { border-top:none; }
.cond .and { grid-column:1 / -1; font-size:.75em; color:var(--muted); font-weight:700; letter-spacing:.1em; }
.cond-head { display:grid; grid-template-columns:2.2fr 1.5fr .9fr 1fr 1.8fr .85fr .85fr auto; gap:.4rem; font-size:.75em; color:var(--muted); text-transform:uppercase; letter-spacing:.03em; }
.cond input, .cond select { font-size:.9em; padding:.3rem .4rem; }
.row-actions { display:flex; gap:.5rem; margin-top:.6rem; }
.form-actions { display:flex; gap:.6rem; margin-top:1rem; align-items:center; }
.default-submit { position:absolute; left:-10000px; width:1px; height:1px; overflow:hidden; }
.cond .row-error { grid-column:1 / -1; }
textarea.short { min-height:3rem; }
.login { max-width:380px; margin:4rem auto; }
.trace { margin:0; padding-left:1.2rem; }
.trace li { margin-bottom:.3rem; }
.matched { color:var(--ok); font-weight:700; }
.not-matched { color:var(--muted); font-weight:700; }
.errored { color:var(--bad); font-weight:700; }
pre { background:#f0f3f8; padding:.6rem; border-radius:6px; overflow:auto; max-height:20rem; font-size:.85em; margin:.3rem 0 0; }
dl.facts { display:grid; grid-template-columns:12rem 1fr; gap:.4rem 1rem; margin:0; }
dl.facts dt { color:var(--muted); }
dl.facts dd { margin:0; }
.card > h2:first-child { margin-top:0; }
.nowrap { white-space:nowrap; }
.toolbar { display:flex; justify-content:space-between; align-items:center; margin-bottom:1rem; }
.toolbar h1 { margin:0; }
`;
