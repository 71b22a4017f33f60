-- Argo CD health check for aisflow.io/AisPipeline.
-- Install under resource.customizations.health.aisflow.io_AisPipeline in argocd-cm (see README.md
-- next to this file). Healthy only when the operator has observed the current generation and
-- reports Ready=True, so sync waves after the pipeline wait for it to be really up.
local hs = {}
hs.status = "Progressing"
hs.message = "Waiting for the aisflow operator"

if obj.status == nil then
  return hs
end

local generation = obj.metadata.generation
local observed = obj.status.observedGeneration
if observed == nil or (generation ~= nil and observed < generation) then
  hs.message = "Waiting for the operator to observe generation " .. tostring(generation)
  return hs
end

if obj.status.phase == "Paused" then
  hs.status = "Suspended"
  hs.message = "Reconciliation is paused (annotation aisflow.io/paused)"
  return hs
end

local ready = nil
local degraded = nil
if obj.status.conditions ~= nil then
  for _, c in ipairs(obj.status.conditions) do
    -- A condition about an older generation says nothing about this one.
    if c.observedGeneration == nil or generation == nil or c.observedGeneration >= generation then
      if c.type == "Ready" then ready = c end
      if c.type == "Degraded" then degraded = c end
    end
  end
end

if degraded ~= nil and degraded.status == "True" then
  hs.status = "Degraded"
  hs.message = degraded.message or degraded.reason or "Degraded"
  return hs
end
if ready ~= nil and ready.status == "True" then
  hs.status = "Healthy"
  hs.message = ready.message or "Ready"
  return hs
end
if ready ~= nil then
  hs.message = ready.message or ready.reason or "Not ready yet"
end
return hs
