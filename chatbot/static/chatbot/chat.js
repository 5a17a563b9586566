/* The practice chat box: posts the question to the chat API, polls the ticket with backoff until
   the answer is there (or 30 s have passed) and shows it as text, never as HTML. No library,
   no build step. The API is anonymous: no cookie is sent. */
(function () {
  "use strict";

  var POLL_FIRST_MS = 250;
  var POLL_MAX_MS = 2000;
  var GIVE_UP_MS = 30000;

  function getJSON(url, options) {
    return fetch(url, options).then(function (response) {
      return response.json().then(
        function (body) { return { status: response.status, body: body }; },
        function () { return { status: response.status, body: {} }; }
      );
    });
  }

  function poll(url, deadline) {
    var delay = POLL_FIRST_MS;
    return new Promise(function (resolve, reject) {
      function attempt() {
        getJSON(url, { headers: { Accept: "application/json" }, credentials: "omit" }).then(function (result) {
          if (result.status === 200 && result.body.status === "done") { return resolve(result.body); }
          if ((result.status !== 200 && result.status !== 429) || Date.now() > deadline) { return reject(null); }
          delay = Math.min(delay * 1.5, POLL_MAX_MS);
          window.setTimeout(attempt, delay);
        }, reject);
      }
      window.setTimeout(attempt, delay);
    });
  }

  function humanError(body) {
    var error = body && body.error;
    if (error && error.fields && error.fields.message && error.fields.message.length) {
      return error.fields.message[0];
    }
    return null;
  }

  function setUp(form) {
    var box = form.closest("section");
    var input = form.querySelector("input[name=message]");
    var button = form.querySelector("button[type=submit]");
    var answer = box.querySelector("[data-chat-answer]");
    var note = box.querySelector("[data-chat-note]");

    form.addEventListener("submit", function (event) {
      event.preventDefault();
      var message = input.value.trim();
      if (!message) { input.focus(); return; }
      button.disabled = true;
      form.setAttribute("aria-busy", "true");
      answer.textContent = form.dataset.waiting;
      note.textContent = "";
      getJSON(form.dataset.askUrl, {
        method: "POST",
        credentials: "omit",
        headers: { "Content-Type": "application/json", Accept: "application/json" },
        body: JSON.stringify({ message: message, language: form.dataset.language })
      }).then(function (result) {
        if (result.status !== 202) { return Promise.reject(humanError(result.body)); }
        if (result.body.redacted && result.body.redacted.length) { note.textContent = form.dataset.redacted; }
        return poll(result.body.poll_url, Date.now() + GIVE_UP_MS);
      }).then(function (body) {
        answer.textContent = body.answer;
        input.value = "";
      }).catch(function (reason) {
        answer.textContent = typeof reason === "string" && reason ? reason : form.dataset.error;
      }).then(function () {
        button.disabled = false;
        form.removeAttribute("aria-busy");
        input.focus();
      });
    });
  }

  Array.prototype.forEach.call(document.querySelectorAll("[data-chat-form]"), setUp);
})();
