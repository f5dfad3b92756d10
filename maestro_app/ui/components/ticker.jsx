// Calls `onTick` every `intervalMs` while the tab is visible; renders nothing.
import { useEffect, useRef } from "react";

export function Ticker({ intervalMs, onTick }) {
  const tick = useRef(onTick);
  tick.current = onTick;
  useEffect(() => {
    const id = setInterval(() => {
      if (document.visibilityState === "visible" && tick.current) tick.current();
    }, intervalMs || 10000);
    return () => clearInterval(id);
  }, [intervalMs]);
  return null;
}
