// Language links carry the page the merchant is on now (htmx may have pushed a new
// address, e.g. after filtering the ledger), so switching keeps the same view.
document.addEventListener("click", function (ev) {
  var link = ev.target.closest && ev.target.closest("a[data-lang]");
  if (!link) { return; }
  var url = new URL(link.href, window.location.href);
  url.searchParams.set("next", window.location.pathname + window.location.search);
  link.href = url.toString();
});
