// The call link page (docs/call-link.md). Plain script, no build, no
// dependencies: it reads who it calls from its own card, asks for the
// microphone only when Call is pressed, places an anonymous WebCall/1 setup
// at this node's endpoint and follows the session by Server-Sent Events
// (read from fetch, because EventSource cannot send the session's token).
"use strict";
(function () {
  var $ = function (id) { return document.getElementById(id); };
  var ui = {
    avatar: $("avatar"), callee: $("callee"), address: $("address"), status: $("status"), timer: $("timer"),
    form: $("call-form"), name: $("caller-name"), call: $("call"), inCall: $("in-call"), mute: $("mute"),
    hangup: $("hangup"), audio: $("remote"),
  };
  // The same words whatever happened at the far end: refused, unknown, busy, no answer.
  var COULD_NOT_CONNECT = "Could not connect the call. They may be unavailable; please try again later.";
  var NO_MICROPHONE = "Your microphone could not be used, so no call was placed.";
  var TOO_MANY = "Too many calls from here just now. Please try again later.";
  var ENDED = "Call ended.";

  var page = location.pathname.replace(/\/+$/, "");
  var card = null;
  var cardReady = getJson(page + "/card").then(function (c) { card = c; showCard(c); return c; });
  cardReady.catch(function () { /* shown when Call is pressed */ });
  var call = null;
  var nextIce = fetchIce();

  function getJson(url) {
    return fetch(url, { headers: { Accept: "application/json" }, cache: "no-store", credentials: "omit" })
      .then(function (r) { if (!r.ok) throw new Error("HTTP " + r.status); return r.json(); });
  }

  /** ICE servers for the next call, fetched ahead so pressing Call does not
   *  wait for them; each call takes its own and fetches the next one's. */
  function fetchIce() {
    var ready = getJson(page + "/ice").then(function (ice) { return { ice: ice, usableUntil: usableUntil(ice) }; });
    ready.catch(function () { /* fetched again when Call is pressed */ });
    return ready;
  }

  /** Until a minute before the first TURN REST credential expires (its username is <expiry>:<tag>). */
  function usableUntil(ice) {
    var until = Infinity;
    ice.iceServers.forEach(function (server) {
      var expiry = /^(\d{9,12}):/.exec(server.username || "");
      if (expiry) until = Math.min(until, Number(expiry[1]) * 1000 - 60000);
    });
    return until;
  }

  function iceForThisCall() {
    var ahead = nextIce;
    nextIce = fetchIce();
    return ahead.then(function (got) { return Date.now() < got.usableUntil ? got.ice : getJson(page + "/ice"); },
      function () { return getJson(page + "/ice"); });
  }

  function showCard(c) {
    var title = c.displayName || c.address;
    ui.callee.textContent = title;
    ui.address.textContent = c.address;
    ui.address.hidden = !c.displayName;
    ui.avatar.textContent = title.charAt(0).toUpperCase();
    document.title = "Call " + title;
  }

  function setState(state, text) {
    var live = state === "starting" || state === "ringing" || state === "connected";
    var hadFocus = document.activeElement;
    document.body.setAttribute("data-state", state);
    ui.status.textContent = text;
    ui.form.hidden = live;
    ui.inCall.hidden = !live;
    ui.timer.hidden = state !== "connected";
    // Keyboard users land on the control that now matters.
    if (live && (hadFocus === ui.call || hadFocus === document.body)) ui.hangup.focus();
    if (!live && (ui.inCall.contains(hadFocus) || hadFocus === document.body)) ui.call.focus();
  }

  function eventId(c) { c.seq += 1; return c.idPrefix + "." + c.seq; }

  /** Session events to the node, in order, each with its own id. */
  function send(c, events) {
    var body = JSON.stringify({ events: events.map(function (e) { return Object.assign({ id: eventId(c) }, e); }) });
    c.chain = c.chain.then(function () {
      return fetch(c.eventsUrl, {
        method: "POST", body: body, keepalive: true, credentials: "omit",
        headers: { "Content-Type": "application/json", Authorization: "Bearer " + c.token },
      }).catch(function () { /* the session's end reaches us by the stream */ });
    });
    return c.chain;
  }

  function queueCandidate(c, candidate) {
    c.outbox.push(candidate);
    if (!c.token || c.flushing) return;
    c.flushing = true;
    setTimeout(function () {
      c.flushing = false;
      if (c.outbox.length === 0 || c.ended) return;
      send(c, [{ type: "candidates", candidates: c.outbox.splice(0) }]);
    }, 30);
  }

  function finish(c, state, text) {
    if (c.ended) return;
    c.ended = true;
    clearInterval(c.tick);
    if (c.abort) c.abort.abort();
    if (c.pc) c.pc.close();
    // The microphone, now or whenever the browser grants it (hung up while it asked).
    if (c.mic) c.mic.then(function (stream) { stream.getTracks().forEach(function (t) { t.stop(); }); }, function () { /* never granted */ });
    ui.audio.srcObject = null;
    if (call === c) call = null;
    ui.mute.textContent = "Mute";
    setState(state, text);
  }

  function connected(c) {
    if (c.connectedAt || c.ended) return;
    c.connectedAt = Date.now();
    setState("connected", "Connected");
    var show = function () {
      var s = Math.floor((Date.now() - c.connectedAt) / 1000);
      var m = Math.floor(s / 60);
      ui.timer.textContent = (m >= 60 ? Math.floor(m / 60) + ":" + pad(m % 60) : m) + ":" + pad(s % 60);
    };
    show();
    c.tick = setInterval(show, 1000);
  }
  function pad(n) { return (n < 10 ? "0" : "") + n; }

  async function addCandidates(c, list) {
    for (var i = 0; i < list.length; i++) {
      var x = list[i];
      if (!x.candidate) continue; // end of candidates: nothing to add
      try {
        await c.pc.addIceCandidate({ candidate: x.candidate, sdpMid: x.sdpMid, sdpMLineIndex: x.sdpMLineIndex });
      } catch { /* a candidate the browser cannot use */ }
    }
  }

  async function onEvent(c, e) {
    if (c.seen[e.id]) return;
    c.seen[e.id] = true;
    if (e.type === "answer" && !c.answered) {
      c.answered = true;
      await c.pc.setRemoteDescription(e.answer);
      await addCandidates(c, c.held.splice(0));
      if (!c.connectedAt) ui.status.textContent = "Connecting…";
    } else if (e.type === "candidates") {
      if (c.answered) await addCandidates(c, e.candidates);
      else c.held.push.apply(c.held, e.candidates);
    } else if (e.type === "negotiate") {
      await c.pc.setRemoteDescription(e.description);
      if (e.description.type === "offer") {
        await c.pc.setLocalDescription(await c.pc.createAnswer());
        send(c, [{ type: "negotiate", description: { type: "answer", sdp: c.pc.localDescription.sdp } }]);
      }
    } else if (e.type === "hangup" || e.type === "replace") {
      if (c.connectedAt) finish(c, "ended", ENDED);
      else finish(c, "failed", COULD_NOT_CONNECT);
    }
  }

  /** Reads one SSE stream until it ends; returns the last position seen. */
  async function readStream(c, since) {
    c.abort = new AbortController();
    var res = await fetch(c.eventsUrl + "?since=" + since, {
      headers: { Accept: "text/event-stream", Authorization: "Bearer " + c.token },
      signal: c.abort.signal, cache: "no-store", credentials: "omit",
    });
    if (res.status === 401 || res.status === 404 || res.status === 410) return -1;
    if (!res.ok || !res.body) throw new Error("HTTP " + res.status);
    var reader = res.body.pipeThrough(new TextDecoderStream()).getReader();
    var buffer = "";
    for (;;) {
      var chunk = await reader.read();
      if (chunk.done) return since;
      buffer += chunk.value.replace(/\r\n?/g, "\n");
      var cut;
      while ((cut = buffer.indexOf("\n\n")) >= 0) {
        var block = buffer.slice(0, cut);
        buffer = buffer.slice(cut + 2);
        var data = "", kind = "message";
        block.split("\n").forEach(function (line) {
          if (line.indexOf("data:") === 0) data += line.slice(5).trim();
          else if (line.indexOf("event:") === 0) kind = line.slice(6).trim();
          else if (line.indexOf("id:") === 0) since = Number(line.slice(3).trim());
        });
        if (kind === "error") return -1;
        if (data) await onEvent(c, JSON.parse(data));
        if (c.ended) return since;
      }
    }
  }

  async function follow(c) {
    var since = 0, tries = 0;
    while (!c.ended) {
      try {
        since = await readStream(c, since);
        if (since < 0) break;
        tries = 0;
      } catch {
        if (c.ended) return;
      }
      if (c.ended) return;
      await new Promise(function (r) { setTimeout(r, Math.min(8000, 500 * Math.pow(2, tries++))); });
    }
    if (c.connectedAt) finish(c, "ended", ENDED);
    else finish(c, "failed", COULD_NOT_CONNECT);
  }

  async function place(event) {
    event.preventDefault();
    if (call) return;
    var c = call = {
      ended: false, seq: 0, idPrefix: "page-" + Math.random().toString(36).slice(2, 12), chain: Promise.resolve(),
      outbox: [], held: [], seen: {}, answered: false, connectedAt: 0,
    };
    setState("starting", "Starting… allow the microphone if your browser asks.");
    // While the browser opens the microphone: this call's ICE servers (its own
    // TURN credentials), the peer connection and its offer. The microphone's
    // track joins the sender when it comes; nothing is sent before it does.
    c.mic = navigator.mediaDevices.getUserMedia({ audio: true, video: false });
    c.mic.catch(function () { /* reported below */ });
    try {
      var found = card || await cardReady;
      var ice = await iceForThisCall();
      if (c.ended) return;
      var pc = c.pc = new RTCPeerConnection({ iceServers: ice.iceServers });
      c.sender = pc.addTransceiver("audio", { direction: "sendrecv", streams: [new MediaStream()] }).sender;
      pc.ontrack = function (e) {
        ui.audio.srcObject = e.streams[0] || new MediaStream([e.track]);
        ui.audio.play().catch(function () { /* autoplay: the Call press allows it */ });
      };
      pc.onicecandidate = function (e) { queueCandidate(c, e.candidate ? e.candidate.toJSON() : { candidate: "" }); };
      pc.onconnectionstatechange = function () {
        if (pc.connectionState === "connected") connected(c);
        else if (pc.connectionState === "failed" && c.connectedAt) {
          send(c, [{ type: "hangup", reason: "ice_failed" }]);
          finish(c, "ended", ENDED);
        }
      };
      await pc.setLocalDescription(await pc.createOffer());
    } catch {
      finish(c, "failed", COULD_NOT_CONNECT);
      return;
    }
    // No call is placed without a microphone.
    try {
      c.stream = await c.mic;
    } catch {
      finish(c, "failed", NO_MICROPHONE);
      return;
    }
    if (c.ended) return;
    try {
      c.track = c.stream.getAudioTracks()[0];
      await c.sender.replaceTrack(c.track);
      var setup = { calleeId: found.address, offer: { type: "offer", sdp: pc.localDescription.sdp } };
      var name = ui.name.value.replace(/\p{Cc}/gu, " ").trim().slice(0, 64);
      if (name) setup.callerName = name;
      var endpoint = found.endpoint.replace(/\/+$/, "");
      var res = await fetch(endpoint || "/", {
        method: "POST", credentials: "omit", headers: { "Content-Type": "application/json" }, body: JSON.stringify(setup),
      });
      if (res.status === 429) { finish(c, "failed", TOO_MANY); return; }
      var answer = res.ok ? await res.json() : null;
      if (!answer || answer.status !== "success") { finish(c, "failed", COULD_NOT_CONNECT); return; }
      c.token = answer.token;
      c.eventsUrl = endpoint + "/sessions/" + encodeURIComponent(answer.sessionId) + "/events";
      if (c.ended) { send(c, [{ type: "hangup", reason: "user_hangup" }]); return; }
      setState("ringing", "Ringing…");
      if (c.outbox.length) send(c, [{ type: "candidates", candidates: c.outbox.splice(0) }]);
      follow(c);
    } catch {
      finish(c, "failed", COULD_NOT_CONNECT);
    }
  }

  function hangUp() {
    var c = call;
    if (!c) return;
    if (c.token) send(c, [{ type: "hangup", reason: "user_hangup" }]);
    finish(c, "ended", ENDED);
  }

  function toggleMute() {
    var c = call;
    if (!c || !c.track) return; // nothing to mute before the microphone is on
    c.muted = !c.muted;
    c.track.enabled = !c.muted;
    // No track, no packets: nothing of the room reaches the callee while muted.
    c.sender.replaceTrack(c.muted ? null : c.track);
    ui.mute.textContent = c.muted ? "Unmute" : "Mute";
  }

  ui.form.addEventListener("submit", place);
  ui.hangup.addEventListener("click", hangUp);
  ui.mute.addEventListener("click", toggleMute);
  window.addEventListener("pagehide", hangUp);
})();
