/* The import page's upload (dashboard/uploads.py): a file input in the drop zone, a first check of the
   files in the browser (too large for one upload, or of a kind hipline cannot read: refused here, before
   anything is sent; the server checks again), then one form post of the files with the upload's
   progress. The server's answer goes to the `upload-received` store, which the page's callbacks take on.
   Dash's own upload component is not used: it reads every file into the page as text, which a large
   file crashes. */
(function () {
  "use strict";

  function zone() { return document.getElementById("upload"); }

  function say(id, children) { window.dash_clientside.set_props(id, { children: children }); }

  function csrfToken() {
    var match = document.cookie.match(/(?:^|;\s*)_csrf_token=([^;]*)/);
    return match ? decodeURIComponent(match[1]) : "";
  }

  function refusal(files, box) {
    var extensions = box.dataset.extensions.split(" ");
    var unreadable = [], total = 0;
    for (var i = 0; i < files.length; i++) {
      var name = files[i].name, dot = name.lastIndexOf(".");
      var extension = dot >= 0 ? name.slice(dot).toLowerCase() : "";
      if (extensions.indexOf(extension) < 0) { unreadable.push(name || "(no name)"); }
      total += files[i].size;
    }
    if (unreadable.length) {
      return "Not uploaded: " + unreadable.join(", ") + " is not a kind of file hipline reads (" +
             extensions.join(" ") + ").";
    }
    var maxMb = Number(box.dataset.maxMb);
    if (total > maxMb * 1048576) {
      return "Not uploaded: these files hold " + (total / 1048576).toFixed(1) + " MB, more than an upload may (" +
             maxMb + " MB). Upload fewer files at once.";
    }
    return null;
  }

  function send(files) {
    var box = zone();
    if (!box || !files || !files.length) { return; }
    var why = refusal(files, box);
    /* a new upload: the report of the one before is not about these files */
    say("upload-report", null);
    say("upload-refusal", why);
    if (why) { return; }
    var form = new FormData();
    for (var i = 0; i < files.length; i++) { form.append("files", files[i], files[i].name); }
    var request = new XMLHttpRequest();
    request.open("POST", box.dataset.url);
    request.setRequestHeader("X-CSRFToken", csrfToken());
    request.upload.onprogress = function (event) {
      if (event.lengthComputable) {
        say("upload-report", "Sending the files… " + Math.floor((100 * event.loaded) / event.total) + " %");
      }
    };
    request.onload = function () {
      var answer;
      try { answer = JSON.parse(request.responseText); } catch (e) { answer = null; }
      if (!answer || (!answer.job && !answer.refusal)) {
        answer = { refusal: "The upload could not be sent (the server answered " + request.status + ")." };
      }
      answer.at = Date.now(); /* the same answer twice is still news */
      window.dash_clientside.set_props("upload-received", { data: answer });
    };
    request.onerror = function () {
      window.dash_clientside.set_props("upload-received", {
        data: { refusal: "The upload could not be sent: the server did not answer.", at: Date.now() } });
    };
    request.send(form);
  }

  /* Dash draws the page after this script runs, and again on each visit: give every drop zone its input. */
  new MutationObserver(function () {
    var box = zone();
    if (box && !box.querySelector("input[type=file]")) {
      var input = document.createElement("input");
      input.type = "file";
      input.multiple = true;
      input.className = "upload-input";
      input.addEventListener("change", function () { send(input.files); input.value = ""; });
      box.appendChild(input);
    }
  }).observe(document.documentElement, { childList: true, subtree: true });

  document.addEventListener("dragover", function (event) {
    var box = zone();
    if (box && box.contains(event.target)) { event.preventDefault(); box.classList.add("upload-box--active"); }
  });
  document.addEventListener("dragleave", function () {
    var box = zone();
    if (box) { box.classList.remove("upload-box--active"); }
  });
  document.addEventListener("drop", function (event) {
    var box = zone();
    if (box && box.contains(event.target)) {
      event.preventDefault();
      box.classList.remove("upload-box--active");
      send(event.dataTransfer.files);
    }
  });
})();
