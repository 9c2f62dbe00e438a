import { z } from 'zod';

/**
 * The parts of Grafana's file formats our files use, as Grafana documents them: the dashboard
 * JSON model (grafana.com/docs/grafana/latest/dashboards/json-model/) and the provisioning
 * files for datasources and dashboard providers (.../administration/provisioning/). Fields we
 * do not use may be present (Grafana ignores what it does not know); the ones Grafana needs are
 * required here with the types it reads them as. Grafana is not in Debian, so its files are
 * checked against this instead of a running Grafana.
 */

const datasourceRef = z.strictObject({ type: z.literal('prometheus'), uid: z.string().min(1) });

export const targetSchema = z.looseObject({
  refId: z.string().regex(/^[A-Z]$/, { error: 'refId is one capital letter, A for the first query of a panel' }),
  expr: z.string().min(1),
  datasource: datasourceRef.optional(),
  legendFormat: z.string().optional(),
  instant: z.boolean().optional(),
  range: z.boolean().optional(),
  format: z.enum(['time_series', 'table', 'heatmap']).optional(),
});

const gridPosSchema = z
  .strictObject({
    h: z.int().min(1),
    w: z.int().min(1).max(24),
    x: z.int().min(0).max(23),
    y: z.int().min(0),
  })
  .refine((pos) => pos.x + pos.w <= 24, { error: 'gridPos: x + w must fit the 24 columns' });

/** Panel types of Grafana's core (no plugin to install). */
export const CORE_PANEL_TYPES = ['timeseries', 'stat', 'gauge', 'bargauge', 'table', 'text', 'state-timeline', 'row'] as const;

export const panelSchema = z
  .looseObject({
    id: z.int().min(1),
    type: z.enum(CORE_PANEL_TYPES),
    title: z.string().min(1),
    description: z.string().optional(),
    gridPos: gridPosSchema,
    datasource: datasourceRef.optional(),
    targets: z.array(targetSchema).optional(),
    fieldConfig: z.looseObject({ defaults: z.looseObject({}), overrides: z.array(z.unknown()) }).optional(),
    options: z.looseObject({}).optional(),
  })
  .refine((panel) => panel.type === 'row' || panel.type === 'text' || (panel.targets?.length ?? 0) > 0, {
    error: 'a panel that shows data needs at least one query (targets)',
  })
  .refine((panel) => panel.type === 'row' || panel.type === 'text' || panel.datasource !== undefined, {
    error: 'a panel that shows data names its datasource',
  });

export const annotationSchema = z.looseObject({
  name: z.string().min(1),
  enable: z.boolean(),
  iconColor: z.string().min(1),
  datasource: z.union([datasourceRef, z.strictObject({ type: z.literal('grafana'), uid: z.string() })]),
  expr: z.string().optional(),
  step: z.string().optional(),
  titleFormat: z.string().optional(),
  textFormat: z.string().optional(),
  tagKeys: z.string().optional(),
  builtIn: z.int().optional(),
});

export const dashboardSchema = z.looseObject({
  // A provisioned dashboard must not carry a database id: Grafana assigns it.
  id: z.null(),
  uid: z.string().regex(/^[a-zA-Z0-9_-]{1,40}$/, { error: 'uid: at most 40 letters, digits, - and _' }),
  title: z.string().min(1),
  tags: z.array(z.string()),
  timezone: z.string(),
  editable: z.boolean(),
  graphTooltip: z.int().min(0).max(2),
  schemaVersion: z.int().min(36),
  version: z.int().min(0),
  refresh: z.string(),
  time: z.strictObject({ from: z.string().min(1), to: z.string().min(1) }),
  templating: z.strictObject({ list: z.array(z.looseObject({ name: z.string(), type: z.string() })) }),
  annotations: z.strictObject({ list: z.array(annotationSchema) }),
  panels: z.array(panelSchema).min(1),
  links: z.array(z.unknown()),
});

export type Dashboard = z.output<typeof dashboardSchema>;
export type Panel = z.output<typeof panelSchema>;

export const datasourceProvisioningSchema = z.strictObject({
  apiVersion: z.literal(1),
  deleteDatasources: z.array(z.strictObject({ name: z.string(), orgId: z.int() })).optional(),
  datasources: z
    .array(
      z.strictObject({
        name: z.string().min(1),
        type: z.string().min(1),
        uid: z.string().regex(/^[a-zA-Z0-9_-]{1,40}$/),
        access: z.enum(['proxy', 'direct']),
        url: z.url(),
        orgId: z.int().optional(),
        isDefault: z.boolean().optional(),
        editable: z.boolean().optional(),
        version: z.int().optional(),
        jsonData: z.record(z.string(), z.unknown()).optional(),
      }),
    )
    .min(1),
});

export const dashboardProvisioningSchema = z.strictObject({
  apiVersion: z.literal(1),
  providers: z
    .array(
      z.strictObject({
        name: z.string().min(1),
        orgId: z.int().optional(),
        folder: z.string().optional(),
        folderUid: z.string().optional(),
        type: z.literal('file'),
        disableDeletion: z.boolean().optional(),
        updateIntervalSeconds: z.int().min(1).optional(),
        allowUiUpdates: z.boolean().optional(),
        options: z.strictObject({ path: z.string().startsWith('/'), foldersFromFilesStructure: z.boolean().optional() }),
      }),
    )
    .min(1),
});
