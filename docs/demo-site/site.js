// The demo article page: picks the article named by ?slug=, gives its slug to the comment
// widget's placeholder at once (this script runs before the widget's async one), then, once the
// page is parsed, fills the title, byline and body from the API. The API base is the widget
// script's own (its src without /embed/comments.js, or its data-api), as the widget finds it.
"use strict";

(() => {
  const SLUG = /^[a-z0-9]+(?:-[a-z0-9]+)*$/;
  const SITE = "The Kettlemouth Courier";
  const placeholder = document.querySelector("[data-newsroom-comments]");
  const title = document.getElementById("story-title");
  const byline = document.getElementById("story-byline");
  const body = document.getElementById("story-body");
  const kicker = document.getElementById("story-kicker");
  const slug = new URLSearchParams(window.location.search).get("slug") || "";

  function apiBase() {
    const widget = document.querySelector('script[src$="/embed/comments.js"]');
    if (!widget) return null;
    return widget.getAttribute("data-api") || widget.src.replace(/\/embed\/comments\.js$/, "");
  }

  function showMissing(message) {
    title.textContent = message;
    document.title = message + " – " + SITE;
    const back = document.createElement("a");
    back.href = "./";
    back.textContent = "Back to the front page";
    const paragraph = document.createElement("p");
    paragraph.appendChild(back);
    body.replaceChildren(paragraph);
  }

  function showArticle(article) {
    document.title = article.title + " – " + SITE;
    title.textContent = article.title;
    if (article.tags && article.tags.length) {
      kicker.textContent = article.tags[0].replace(/-/g, " ");
    }
    const published = new Date(article.published_at);
    const time = document.createElement("time");
    time.dateTime = article.published_at;
    time.textContent = new Intl.DateTimeFormat(document.documentElement.lang || undefined, {
      dateStyle: "long",
    }).format(published);
    const author = document.createElement("span");
    author.className = "story__author";
    author.textContent = article.author.name;
    byline.replaceChildren("By ", author, " · ", time);
    // The article's HTML comes sanitised from the API (rendered from Markdown and cleaned).
    body.innerHTML = article.body_html;
  }

  if (!SLUG.test(slug)) {
    if (placeholder) placeholder.remove();
    showMissing("Choose an article on the front page");
    return;
  }
  if (placeholder) placeholder.setAttribute("data-newsroom-comments", slug);

  function loadArticle() {
    const base = apiBase();
    if (!base) {
      showMissing("The article could not be loaded");
      return;
    }
    fetch(base + "/articles/" + encodeURIComponent(slug), { headers: { Accept: "application/json" } })
      .then((response) => {
        if (response.status === 404) return null;
        if (!response.ok) throw new Error(`the API answered ${response.status}`);
        return response.json();
      })
      .then((article) => {
        if (article) showArticle(article);
        else showMissing("This article is not available");
      })
      .catch(() => showMissing("The article could not be loaded"));
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", loadArticle);
  } else {
    loadArticle();
  }
})();
