/* Territoria: progressive enhancement. Every page works without this script. */
(function () {
  "use strict";
  var csrf = (document.querySelector('meta[name="csrf-token"]') || {}).content || "";
  var store = {
    get: function (k) { try { return window.localStorage.getItem(k); } catch (e) { return null; } },
    set: function (k, v) { try { window.localStorage.setItem(k, v); } catch (e) { /* private mode */ } }
  };

  function problemText(response) {
    return response.json().then(function (p) { return p.detail || "Erreur " + response.status; },
      function () { return "Erreur " + response.status + "."; });
  }

  /* AI notice: shown in full until the person says they have read it. */
  var notice = document.getElementById("notice-ia");
  if (notice) {
    var close = notice.querySelector("[data-fermer-notice]");
    if (store.get("territoria-notice-lue")) { notice.classList.add("reduite"); }
    else if (close) {
      close.hidden = false;
      close.addEventListener("click", function () {
        store.set("territoria-notice-lue", "1");
        notice.classList.add("reduite");
        var q = document.getElementById("q");
        if (q) { q.focus(); }
      });
    }
  }

  /* Large text: a cookie (read by the server) and the class on <html>, without reloading. */
  document.querySelectorAll("form[data-bascule-texte]").forEach(function (form) {
    form.addEventListener("submit", function (event) {
      event.preventDefault();
      var large = !document.documentElement.classList.contains("texte-grand");
      document.documentElement.classList.toggle("texte-grand", large);
      document.cookie = "territoria_texte=" + (large ? "grand" : "normal") +
        "; path=/; max-age=31536000; samesite=lax";
      store.set("territoria-texte", large ? "grand" : "normal");
      form.elements.texte.value = large ? "normal" : "grand";
      form.querySelector("button").textContent = large ? "Texte de taille normale" : "Agrandir le texte";
    });
  });

  function enhanceAnswer(zone) {
    if (document.body.classList.contains("widget")) {
      zone.querySelectorAll(".sources a").forEach(function (a) {
        a.target = "_blank"; a.rel = "noopener";
      });
    }
    zone.querySelectorAll("[data-copier]").forEach(enableCopy);
    zone.querySelectorAll("form[data-avis]").forEach(enableFeedback);
  }

  /* A short conversation: the last three questions and their answers' ids, kept in the
     form's hidden fields (the page without JavaScript keeps them the same way). */
  function conversation(form) {
    var texts = form.querySelectorAll('input[name="previous"]');
    var ids = form.querySelectorAll('input[name="previous_id"]');
    var turns = [];
    texts.forEach(function (input, i) { turns.push([input.value, ids[i] ? ids[i].value : ""]); });
    return turns;
  }
  function remember(form, turns) {
    form.querySelectorAll("input[data-suite]").forEach(function (input) { input.remove(); });
    var anchor = form.querySelector("p.suite");
    turns.slice(-3).forEach(function (turn) {
      ["previous", "previous_id"].forEach(function (name, i) {
        var input = document.createElement("input");
        input.type = "hidden"; input.name = name; input.value = turn[i];
        input.setAttribute("data-suite", "");
        form.insertBefore(input, anchor);
      });
    });
    if (anchor) { anchor.hidden = turns.length === 0; }
  }

  /* Questions: sent by POST to the API (never in the address), the answer shown in place.
     Each answer is a history entry of the same address whose state holds the answer and its
     conversation: Back and Forward move between answers, and a reload (or coming back from
     a document) shows the answer again instead of an empty form. */
  var form = document.querySelector("form[data-question]");
  var zone = document.getElementById("reponse");
  /* The title says "Réponse", never the question: browsers keep titles in their history. */
  var baseTitle = document.title.replace(/^Réponse — /, "");
  function snapshot() {
    return {
      territoria: 1, html: zone.innerHTML, q: form.elements.q.value,
      simple: !!(form.elements.simple && form.elements.simple.checked),
      turns: conversation(form), title: document.title
    };
  }
  function restore(state) {
    zone.innerHTML = state.html;
    form.elements.q.value = state.q;
    if (form.elements.simple) { form.elements.simple.checked = state.simple; }
    remember(form, state.turns);
    document.title = state.title;
    enhanceAnswer(zone);
  }
  if (form && zone) {
    var saved = window.history.state;
    if (saved && saved.territoria && !zone.querySelector("[data-request-id]")) { restore(saved); }
    else { enhanceAnswer(zone); }
    /* An old link's ?q= only filled in the field: the address keeps no question either. */
    window.history.replaceState(snapshot(), "", window.location.pathname);
    window.addEventListener("popstate", function (event) {
      if (event.state && event.state.territoria) { restore(event.state); }
    });
    /* "Nouvelle question": an empty form, as a new history entry (Back returns to the answer). */
    var fresh = form.querySelector("[data-nouvelle-question]");
    if (fresh) {
      fresh.addEventListener("click", function (event) {
        event.preventDefault();
        zone.innerHTML = "";
        form.elements.q.value = "";
        remember(form, []);
        document.title = baseTitle;
        window.history.pushState(snapshot(), "", window.location.pathname);
        form.elements.q.focus();
      });
    }
    form.addEventListener("submit", function (event) {
      var q = form.elements.q.value.trim();
      if (!q) { return; }
      event.preventDefault();
      /* The conversation so far (hidden fields): a follow-up is understood with it. */
      var history = conversation(form);
      var body = {
        question: q, simple: !!(form.elements.simple && form.elements.simple.checked),
        previous: history.map(function (turn) { return turn[0]; }),
        previous_ids: history.map(function (turn) { return turn[1]; })
      };
      zone.setAttribute("aria-busy", "true");
      zone.innerHTML = "";
      fetch("/api/ask", {
        method: "POST", credentials: "same-origin", body: JSON.stringify(body),
        headers: { "Content-Type": "application/json", "Accept": "text/html", "X-CSRF-Token": csrf }
      }).then(function (response) {
        if (!response.ok) { return problemText(response).then(function (t) { throw new Error(t); }); }
        return response.text();
      }).then(function (html) {
        zone.innerHTML = html;
        enhanceAnswer(zone);
        var article = zone.querySelector("[data-request-id]");
        remember(form, history.concat([[q, article ? article.getAttribute("data-request-id") : ""]]));
        document.title = "Réponse — " + baseTitle;
        window.history.pushState(snapshot(), "", window.location.pathname);
        var title = document.getElementById("titre-reponse");
        if (title) { title.focus(); }
      }).catch(function (error) {
        zone.innerHTML = "";
        var p = document.createElement("p");
        p.className = "erreur"; p.setAttribute("role", "alert");
        p.textContent = error.message || "La réponse n'a pas pu être obtenue.";
        zone.appendChild(p);
      }).then(function () { zone.setAttribute("aria-busy", "false"); });
    });
  }

  /* Citation marks [n] open their source in place. */
  document.addEventListener("click", function (event) {
    var mark = event.target.closest ? event.target.closest("a.appel") : null;
    if (!mark) { return; }
    var item = document.getElementById("source-" + mark.getAttribute("data-source"));
    if (!item) { return; }
    event.preventDefault();
    document.querySelectorAll(".sources li.active").forEach(function (li) { li.classList.remove("active"); });
    item.classList.add("active");
    var details = item.querySelector("details");
    if (details) { details.open = true; }
    var summary = item.querySelector("summary") || item.querySelector("a");
    if (summary) { summary.focus(); }
  });

  /* Feedback: sent to the API, confirmed in place. */
  function enableFeedback(form) {
    form.addEventListener("submit", function (event) {
      event.preventDefault();
      var status = form.querySelector(".etat-avis");
      var choice = form.querySelector('input[name="useful"]:checked');
      if (!choice) { status.textContent = "Choisissez « Oui » ou « Non »."; return; }
      fetch("/api/feedback", {
        method: "POST", credentials: "same-origin",
        headers: { "Content-Type": "application/json", "X-CSRF-Token": csrf },
        body: JSON.stringify({
          request_id: form.elements.request_id.value,
          useful: choice.value === "oui",
          reason: form.elements.reason.value
        })
      }).then(function (response) {
        if (!response.ok) { return problemText(response).then(function (t) { throw new Error(t); }); }
        form.querySelector("fieldset").disabled = true;
        status.textContent = "Merci pour votre avis.";
      }).catch(function (error) { status.textContent = error.message; });
    });
  }

  /* Copy buttons: copy the text of the named field. */
  function enableCopy(button) {
    button.hidden = false;
    button.addEventListener("click", function () {
      var field = document.getElementById(button.getAttribute("data-copier"));
      var status = button.parentElement.querySelector(".etat-copie") ||
        document.querySelector(".etat-copie");
      var done = function () { if (status) { status.textContent = "Copié dans le presse-papiers."; } };
      if (navigator.clipboard && window.isSecureContext) {
        navigator.clipboard.writeText(field.value).then(done, function () {
          field.select(); document.execCommand("copy"); done();
        });
      } else { field.select(); document.execCommand("copy"); done(); }
    });
  }
  document.querySelectorAll("main > .a-copier [data-copier]").forEach(enableCopy);

  /* Deleting asks for confirmation. */
  document.querySelectorAll("form[data-confirmer]").forEach(function (form) {
    form.addEventListener("submit", function (event) {
      if (!window.confirm(form.getAttribute("data-confirmer"))) { event.preventDefault(); }
    });
  });

  /* Upload: progress bar, then the result of each file, then the refreshed list. */
  document.querySelectorAll("form[data-depot]").forEach(function (form) {
    var results = document.getElementById("resultats-depot");
    var bar = form.querySelector("progress");
    form.addEventListener("submit", function (event) {
      event.preventDefault();
      var xhr = new XMLHttpRequest();
      xhr.open("POST", "/api/documents");
      xhr.setRequestHeader("X-CSRF-Token", csrf);
      xhr.setRequestHeader("Accept", "application/json");
      bar.parentElement.hidden = false; bar.value = 0;
      results.textContent = "Envoi des fichiers…";
      xhr.upload.addEventListener("progress", function (e) {
        if (e.lengthComputable) { bar.value = Math.round(100 * e.loaded / e.total); bar.textContent = bar.value + " %"; }
      });
      xhr.addEventListener("load", function () {
        bar.value = 100;
        var data = null;
        try { data = JSON.parse(xhr.responseText); } catch (e) { data = null; }
        results.innerHTML = "";
        if (xhr.status >= 300 || !data || !data.results) {
          var p = document.createElement("p"); p.className = "erreur"; p.setAttribute("role", "alert");
          p.textContent = (data && data.detail) || "Le dépôt a échoué.";
          results.appendChild(p); return;
        }
        var h = document.createElement("h3"); h.textContent = "Résultat du dépôt"; results.appendChild(h);
        var ul = document.createElement("ul"); ul.className = "resultats";
        var names = { ingested: "Indexé", replaced: "Remplacé", unchanged: "Inchangé", failed: "Échec" };
        data.results.forEach(function (r) {
          var li = document.createElement("li");
          li.className = r.status === "failed" ? "echec" : "succes";
          var strong = document.createElement("strong"); strong.textContent = names[r.status] || r.status;
          li.appendChild(strong);
          li.appendChild(document.createTextNode(" : " + r.file + (r.reason ? " — " + r.reason : "") +
            (r.doc_ids.length ? " (" + r.doc_ids.join(", ") + ")" : "")));
          ul.appendChild(li);
        });
        results.appendChild(ul);
        form.reset();
        fetch(window.location.pathname, { credentials: "same-origin" }).then(function (r) { return r.text(); })
          .then(function (html) {
            var doc = new DOMParser().parseFromString(html, "text/html");
            var fresh = doc.querySelector('section[aria-labelledby="titre-liste"]');
            var old = document.querySelector('section[aria-labelledby="titre-liste"]');
            if (fresh && old) { old.replaceWith(fresh); }
          });
      });
      xhr.addEventListener("error", function () { results.textContent = "Le dépôt a échoué (réseau)."; });
      xhr.send(new FormData(form));
    });
  });
})();
