// The frames of a live websocket: the server sends what arrived together as one
// {"type": "batch", "messages": [...]} frame (core.live.BatchReceiver); pages handle messages.
window.liveMessages = function (data) {
  const frame = JSON.parse(data);
  return frame.type === "batch" ? frame.messages : [frame];
};
