// Shiny output binding of ngxbubble::bubbleOutput(): the value that
// renderBubble() sends is {src, width, height, alt}; src is the chart's URL
// on the ngx_bubble server, which the browser fetches itself.
(function () {
  'use strict';
  if (!window.Shiny) {
    return;
  }
  var binding = new Shiny.OutputBinding();

  binding.find = function (scope) {
    return $(scope).find('.ngxbubble-output');
  };

  binding.renderValue = function (el, data) {
    var img = el.querySelector('img.ngxbubble');
    if (!data) {
      if (img) {
        img.removeAttribute('src');
        img.style.visibility = 'hidden';
      }
      return;
    }
    if (!img) {
      // a shown error replaced the element's content
      el.textContent = '';
      img = document.createElement('img');
      img.className = 'ngxbubble';
      img.style.display = 'block';
      el.appendChild(img);
    }
    img.style.visibility = '';
    img.alt = data.alt || '';
    img.style.width = data.width + 'px';
    img.style.height = data.height + 'px';
    if (img.getAttribute('src') !== data.src) {
      img.src = data.src;
    }
  };

  Shiny.outputBindings.register(binding, 'ngxbubble.bubbleOutput');
})();
