import type { FastifyInstance } from 'fastify';
import { listRecentEvents } from '../../db/events.js';
import { eventsPage } from '../pages/events.js';
import { pageContext, sendPage, type WebContext } from '../web-context.js';

export const RECENT_EVENTS_SHOWN = 50;

export function registerEventRoutes(app: FastifyInstance, context: WebContext): void {
  app.get('/events', async (request, reply) => {
    const events = await listRecentEvents(context.db, context.tenantId, RECENT_EVENTS_SHOWN);
    return sendPage(reply, eventsPage(pageContext(context, request), events, RECENT_EVENTS_SHOWN));
  });
}
