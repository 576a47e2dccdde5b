"use client";
import { useEffect, useState } from "react";
import { api, call } from "@/lib/api/client";
import type { ModelInfo } from "@/lib/api/types";

/** The model aliases the server knows (prices, multipliers), loaded once per screen. */
export function useModels(): ModelInfo[] {
  const [models, setModels] = useState<ModelInfo[]>([]);
  useEffect(() => {
    call(api.GET("/api/v1/models"))
      .then((m) => setModels(m.models))
      .catch(() => setModels([]));
  }, []);
  return models;
}
