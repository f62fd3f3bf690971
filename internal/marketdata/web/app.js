// Market-data page: one WebSocket, subscribed to the book, trades and candles of
// the chosen symbol. Every channel starts with a snapshot ("snapshot": true)
// and continues with updates; a new snapshot replaces what was there.
(function () {
  'use strict';
  const LADDER_ROWS = 12, TAPE_ROWS = 60;
  const $ = (id) => document.getElementById(id);
  const state = {
    symbol: '', ticks: {}, interval: $('interval').value, ws: null, retryMs: 500,
    bids: new Map(), asks: new Map(), trades: [], candles: 0, drawPending: false, past: [], live: [],
  };
  // For tests and the curious: a summary of what the page holds.
  window.__md = { candles: 0, pastCandles: 0, ladderRows: 0, trades: 0, messages: 0, connected: false };

  const chart = LightweightCharts.createChart($('chart'), {
    autoSize: true,
    layout: { background: { color: '#161c24' }, textColor: '#d1d4dc' },
    grid: { vertLines: { color: '#222a35' }, horzLines: { color: '#222a35' } },
    timeScale: { timeVisible: true, secondsVisible: true, borderColor: '#2a3340', barSpacing: 10, rightOffset: 4 },
    rightPriceScale: { borderColor: '#2a3340' },
    crosshair: { mode: 0 },
  });
  const candleSeries = chart.addCandlestickSeries({
    upColor: '#26a69a', downColor: '#ef5350', wickUpColor: '#26a69a', wickDownColor: '#ef5350', borderVisible: false,
  });
  candleSeries.priceScale().applyOptions({ scaleMargins: { top: 0.08, bottom: 0.28 } });
  const volumeSeries = chart.addHistogramSeries({
    priceFormat: { type: 'volume' }, priceScaleId: 'vol', lastValueVisible: false, priceLineVisible: false,
  });
  chart.priceScale('vol').applyOptions({ scaleMargins: { top: 0.78, bottom: 0 } });

  const bar = (c) => ({ time: c.time, open: +c.open, high: +c.high, low: +c.low, close: +c.close });
  const vol = (c) => ({ time: c.time, value: +c.volume,
    color: +c.close >= +c.open ? 'rgba(38,166,154,0.5)' : 'rgba(239,83,80,0.5)' });

  // Past candles come from the history database (/api/history/, served when
  // the reporter runs): the chart shows them before the live ones, so it
  // keeps past days across a restart. Without it the chart is live only.
  function loadHistory(symbol, interval) {
    state.past = [];
    fetch('api/history/candles/' + encodeURIComponent(symbol) + '?interval=' + interval)
      .then((r) => (r.ok ? r.json() : []))
      .then((cs) => {
        if (symbol !== state.symbol || interval !== state.interval || !Array.isArray(cs)) return;
        state.past = cs;
        window.__md.pastCandles = cs.length;
        drawCandles(state.live || []);
      })
      .catch(() => {});
  }

  // drawCandles shows the past candles older than the first live one, then
  // the live ones.
  function drawCandles(live) {
    state.live = live;
    const first = live.length ? live[0].time : Infinity;
    const all = state.past.filter((c) => c.time < first).concat(live);
    candleSeries.setData(all.map(bar));
    volumeSeries.setData(all.map(vol));
    state.candles = all.length;
    window.__md.candles = state.candles;
    if (all.length) chart.timeScale().scrollToRealTime();
  }

  function onCandles(m) {
    if (m.interval !== state.interval) return;
    if (m.snapshot) {
      drawCandles(m.candles);
    } else {
      for (const c of m.candles) {
        try { candleSeries.update(bar(c)); volumeSeries.update(vol(c)); } catch (e) { continue; }
        const n = state.live.length;
        if (n && state.live[n - 1].time === c.time) state.live[n - 1] = c; else state.live.push(c);
      }
      state.candles = candleSeries.data().length;
    }
    window.__md.candles = state.candles;
  }

  function onBook(m) {
    if (m.snapshot) { state.bids.clear(); state.asks.clear(); }
    for (const [ls, map] of [[m.bids, state.bids], [m.asks, state.asks]]) {
      for (const l of ls) {
        if (+l.qty === 0) map.delete(l.price); else map.set(l.price, l);
      }
    }
    scheduleDraw();
  }

  function onTrades(m) {
    const ts = m.trades.slice().reverse(); // newest first
    state.trades = m.snapshot ? ts : ts.concat(state.trades);
    state.trades.length = Math.min(state.trades.length, TAPE_ROWS);
    showStats(m.stats);
    scheduleDraw();
  }

  function showStats(s) {
    if (!s) return;
    for (const k of ['last', 'open', 'high', 'low', 'volume', 'vwap', 'trades']) {
      $('st-' + k).textContent = s[k] == null ? '–' : s[k];
    }
    $('st-halted').hidden = !s.halted;
    $('st-halted').textContent = s.halt_reason ? 'HALTED: ' + s.halt_reason : 'HALTED';
    const badge = $('st-phase');
    if (badge && s.phase) {
      badge.textContent = s.phase.replace('_', ' ');
      badge.hidden = s.phase === 'continuous';
      const ind = s.indicative_price == null ? '' :
        ' indicative ' + s.indicative_price + ' × ' + s.indicative_qty +
        (s.imbalance_side ? ' (imbalance ' + s.imbalance_qty + ' ' + s.imbalance_side + ')' : '');
      badge.textContent += ind;
    }
  }

  function scheduleDraw() {
    if (state.drawPending) return;
    state.drawPending = true;
    requestAnimationFrame(draw);
  }

  function row(cls, cells) {
    const tr = document.createElement('tr');
    tr.className = cls;
    for (const [text, tdCls] of cells) {
      const td = document.createElement('td');
      td.textContent = text;
      if (tdCls) td.className = tdCls;
      tr.appendChild(td);
    }
    return tr;
  }

  function draw() {
    state.drawPending = false;
    const asks = [...state.asks.values()].sort((a, b) => +a.price - +b.price).slice(0, LADDER_ROWS).reverse();
    const bids = [...state.bids.values()].sort((a, b) => +b.price - +a.price).slice(0, LADDER_ROWS);
    const maxQty = Math.max(1, ...asks.map((l) => +l.qty), ...bids.map((l) => +l.qty));
    const fill = (tbody, levels, side, color) => {
      tbody.replaceChildren(...levels.map((l) => {
        const tr = row('level ' + side, [[l.orders], [l.qty], [l.price, 'px']]);
        const pct = Math.round(100 * +l.qty / maxQty);
        tr.style.backgroundImage = `linear-gradient(to left, ${color} ${pct}%, transparent ${pct}%)`;
        return tr;
      }));
    };
    fill($('asks'), asks, 'ask', 'rgba(239,83,80,0.16)');
    fill($('bids'), bids, 'bid', 'rgba(38,166,154,0.16)');
    const bestAsk = asks.length ? asks[asks.length - 1] : null, bestBid = bids.length ? bids[0] : null;
    $('spread').textContent = bestAsk && bestBid
      ? 'spread ' + (+bestAsk.price - +bestBid.price).toFixed(Math.max(decimals(bestAsk.price), decimals(bestBid.price)))
      : 'one-sided book';
    $('trades').replaceChildren(...state.trades.map((t) => {
      const d = new Date(t.time_ns / 1e6);
      return row('', [[d.toISOString().slice(11, 23)], [t.price, t.side], [t.qty]]);
    }));
    window.__md.ladderRows = asks.length + bids.length;
    window.__md.trades = state.trades.length;
  }

  const decimals = (s) => (s.split('.')[1] || '').length;

  function subscribe(op, symbol) {
    if (!state.ws || state.ws.readyState !== WebSocket.OPEN || !symbol) return;
    state.ws.send(JSON.stringify({ op, channels: ['book', 'trades', 'candles'], symbols: [symbol], interval: state.interval }));
  }

  function connect() {
    // Relative to the page, so the handler may be mounted under a prefix.
    const u = new URL('ws', location.href);
    u.protocol = location.protocol === 'https:' ? 'wss:' : 'ws:';
    u.search = '';
    const ws = new WebSocket(u);
    state.ws = ws;
    ws.onopen = () => {
      state.retryMs = 500;
      $('conn').textContent = 'live'; $('conn').className = 'conn up';
      window.__md.connected = true;
      subscribe('subscribe', state.symbol);
    };
    ws.onmessage = (ev) => {
      const data = JSON.parse(ev.data); // one message, or an array of them
      for (const m of Array.isArray(data) ? data : [data]) {
        window.__md.messages++;
        if (m.type === 'error') { console.warn('market data:', m.param, m.error); continue; }
        if (m.symbol !== state.symbol) continue;
        if (m.type === 'book') onBook(m);
        else if (m.type === 'trades') onTrades(m);
        else if (m.type === 'candles') onCandles(m);
      }
    };
    ws.onclose = () => {
      $('conn').textContent = 'reconnecting'; $('conn').className = 'conn down';
      window.__md.connected = false;
      setTimeout(connect, state.retryMs);
      state.retryMs = Math.min(state.retryMs * 2, 10000);
    };
  }

  // The price axis shows the symbol's tick: two decimals for 0.01, none for 5.
  function priceFormat(symbol) {
    const tick = state.ticks[symbol] || '0.01';
    candleSeries.applyOptions({ priceFormat: { type: 'price', precision: decimals(tick), minMove: +tick } });
  }

  function choose(symbol, interval) {
    subscribe('unsubscribe', state.symbol);
    state.symbol = symbol; state.interval = interval;
    priceFormat(symbol);
    state.bids.clear(); state.asks.clear(); state.trades = [];
    candleSeries.setData([]); volumeSeries.setData([]);
    state.live = [];
    window.__md.candles = 0;
    loadHistory(symbol, interval);
    $('chart-title').textContent = symbol + ' · ' + interval;
    const u = new URL(location.href);
    u.searchParams.set('symbol', symbol); u.searchParams.set('interval', interval);
    history.replaceState(null, '', u);
    scheduleDraw();
    subscribe('subscribe', symbol);
  }

  $('symbol').onchange = () => choose($('symbol').value, state.interval);
  // Symbols an operator lists at run time join the list when it is opened.
  $('symbol').onfocus = () => fetch('api/symbols').then((r) => r.json()).then((syms) => {
    const sel = $('symbol');
    const have = new Set(Array.from(sel.options, (o) => o.value));
    for (const s of syms) {
      if (!have.has(s.symbol)) { sel.add(new Option(s.symbol, s.symbol)); state.ticks[s.symbol] = s.tick_size; }
    }
  }).catch(() => {});
  $('interval').onchange = () => choose(state.symbol, $('interval').value);

  fetch('api/symbols').then((r) => r.json()).then((syms) => {
    const sel = $('symbol');
    for (const s of syms) { sel.add(new Option(s.symbol, s.symbol)); state.ticks[s.symbol] = s.tick_size; }
    const q = new URLSearchParams(location.search);
    const want = syms.some((s) => s.symbol === q.get('symbol')) ? q.get('symbol') : (syms[0] || {}).symbol;
    const iv = ['1s', '1m', '5m', '1h'].includes(q.get('interval')) ? q.get('interval') : state.interval;
    sel.value = want; $('interval').value = iv;
    state.symbol = want; state.interval = iv;
    priceFormat(want);
    $('chart-title').textContent = want + ' · ' + iv;
    loadHistory(want, iv);
    connect();
  });
})();
