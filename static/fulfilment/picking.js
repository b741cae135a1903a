// The picking page (fulfilment/templates/fulfilment/packing/order.html): every scan, from a
// keyboard-mode scanner (it types the code and Enter into #pick-scan) or from the camera through
// the vendored @zxing/browser, is posted once with a scan id made here, and posted again with the
// same id when the connection fails, so the server counts it once. Refusals beep low, counts beep high.
(function () {
  "use strict";
  const form = document.getElementById("pick-form");
  if (!form) return;
  const input = document.getElementById("pick-scan");
  const message = document.getElementById("pick-message");
  const status = document.getElementById("pick-status");
  const texts = JSON.parse(document.getElementById("pick-texts").textContent || "{}");
  const csrf = form.querySelector("input[name=csrfmiddlewaretoken]").value;
  let audio = null;

  function scanId() {
    if (window.crypto && crypto.randomUUID) return crypto.randomUUID();
    const b = crypto.getRandomValues(new Uint8Array(16));
    b[6] = (b[6] & 0x0f) | 0x40;
    b[8] = (b[8] & 0x3f) | 0x80;
    const h = Array.from(b, (x) => x.toString(16).padStart(2, "0")).join("");
    return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20)}`;
  }

  function beep(ok) {
    try {
      audio = audio || new (window.AudioContext || window.webkitAudioContext)();
      const tone = audio.createOscillator();
      const gain = audio.createGain();
      tone.type = ok ? "sine" : "square";
      tone.frequency.value = ok ? 1320 : 220;
      gain.gain.value = 0.15;
      tone.connect(gain).connect(audio.destination);
      const now = audio.currentTime;
      tone.start(now);
      tone.stop(now + (ok ? 0.08 : 0.45));
    } catch (error) {
      /* no sound on this device: the message still shows */
    }
  }

  function say(text, kind) {
    message.textContent = text;
    message.className = `pick-message ${kind}`;
    message.dataset.kind = kind;
  }

  function showLines(lines) {
    for (const line of lines) {
      const row = document.querySelector(`#pick-lines tr[data-allocation="${line.id}"]`);
      if (!row) continue;
      row.querySelector(".picked").textContent = `${line.picked} / ${line.quantity}`;
      row.classList.toggle("done", line.done);
    }
  }

  async function send(barcode) {
    const body = JSON.stringify({ scan_id: scanId(), barcode });
    for (let attempt = 0; attempt < 4; attempt += 1) {
      let response;
      try {
        response = await fetch(form.action, {
          method: "POST",
          credentials: "same-origin",
          headers: { "Content-Type": "application/json", Accept: "application/json", "X-CSRFToken": csrf },
          body,
        });
      } catch (error) {
        say(texts.network, "warning");
        await new Promise((resolve) => setTimeout(resolve, 500 * (attempt + 1)));
        continue;
      }
      let data = {};
      try {
        data = await response.json();
      } catch (error) {
        data = { ok: false, message: texts.failed };
      }
      beep(Boolean(data.ok) && !data.repeated);
      say(data.message || texts.failed, data.ok ? (data.repeated ? "repeated" : "ok") : "refused");
      if (data.lines) showLines(data.lines);
      if (data.status_label) status.textContent = data.status_label;
      if (data.packed) {
        form.hidden = true;
        const next = document.getElementById("pick-next"); // the way on to shipping, for who may ship
        if (next) next.hidden = false;
        stopCamera();
      }
      return;
    }
    beep(false);
    say(texts.failed, "refused");
  }

  form.addEventListener("submit", (event) => {
    event.preventDefault();
    const code = input.value.trim();
    input.value = "";
    if (code) send(code);
    input.focus();
  });

  // The camera: one reader, one stream; the same code seen again within a moment is the same item.
  const cameraButton = document.getElementById("pick-camera");
  const video = document.getElementById("pick-video");
  let controls = null;
  let last = { code: "", at: 0 };
  const SAME_ITEM_MS = 1500;

  function stopCamera() {
    if (controls) controls.stop();
    controls = null;
    video.hidden = true;
    cameraButton.textContent = cameraButton.dataset.start || cameraButton.textContent;
  }

  if (window.ZXingBrowser && navigator.mediaDevices && navigator.mediaDevices.getUserMedia) {
    cameraButton.hidden = false;
    cameraButton.dataset.start = cameraButton.textContent;
    cameraButton.addEventListener("click", async () => {
      if (controls) {
        stopCamera();
        input.focus();
        return;
      }
      try {
        const reader = new window.ZXingBrowser.BrowserMultiFormatReader();
        video.hidden = false;
        controls = await reader.decodeFromConstraints(
          { video: { facingMode: "environment" } },
          video,
          (result) => {
            if (!result) return;
            const code = result.getText();
            const now = Date.now();
            if (code === last.code && now - last.at < SAME_ITEM_MS) return;
            last = { code, at: now };
            send(code);
          },
        );
        cameraButton.textContent = texts.stop;
      } catch (error) {
        stopCamera();
        say(texts.camera, "refused");
      }
    });
  }
  input.focus();
  form.dataset.ready = "1"; // scans now go through send(); before this, Enter posts the form without script
})();
