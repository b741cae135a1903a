// The frames of a live websocket: the server sends what arrived together as one
// {"type": "batch", "messages": [...]} frame (core.live.BatchReceiver); pages handle messages.
window.liveMessages = function (data) {
  const frame = JSON.parse(data);
  return frame.type === "batch" ? frame.messages : [frame];
};

// Behaviour that used to sit in inline handlers (the Content-Security-Policy allows no inline script).
document.addEventListener("change", (event) => {
  if (event.target.matches("[data-submit-on-change]")) event.target.form.submit();
});
document.addEventListener("click", (event) => {
  if (event.target.closest("[data-print]")) window.print();
});
