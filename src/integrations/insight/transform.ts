import { readFileSync } from 'node:fs'
import { parseInsightDate } from './dates.js'
import type { InsightOrder } from './insight-client.js'

/** Everything the gateway knows about one shipped serial, before mapping to Oomnitza fields. */
export interface SerialRecord {
  serial: string
  manufacturer: string
  description: string
  sku: string
  materialNumber: string
  materialGroupName: string
  customerOrderNumber: string
  insightOrderNumber: string
  insightOrderItem: string
  orderCreationDate: string | null
  shipDate: string | null
  deliveryNumber: string
  deliveryItem: string
  billingNumber: string
  trackingNumber: string
  carrier: string
}

export const SOURCES = ['serial', 'manufacturer', 'description', 'sku', 'materialNumber', 'materialGroupName', 'customerOrderNumber',
  'insightOrderNumber', 'insightOrderItem', 'orderCreationDate', 'shipDate', 'deliveryNumber', 'deliveryItem', 'billingNumber',
  'trackingNumber', 'carrier'] as const satisfies ReadonlyArray<keyof SerialRecord>
type Source = typeof SOURCES[number]
const DATE_SOURCES = new Set<Source>(['orderCreationDate', 'shipDate'])

/** Oomnitza field → where its value comes from: a SerialRecord field, or a constant `{value}`. */
export type Mapping = Record<string, Source | { value: string }>

/**
 * The default mapping. The custom field names (insight_*, tracking_number, shipping_carrier) are this
 * gateway's choice: Oomnitza tenants name custom fields themselves, so INSIGHT_MAPPING_FILE can rename them.
 */
export const DEFAULT_MAPPING: Mapping = {
  serial_number: 'serial',
  manufacturer: 'manufacturer',
  model: 'description',
  po_number: 'customerOrderNumber',
  vendor: { value: 'Insight' },
  purchase_date: 'orderCreationDate',
  insight_order_number: 'insightOrderNumber',
  insight_order_item: 'insightOrderItem',
  insight_sku: 'sku',
  insight_delivery_number: 'deliveryNumber',
  insight_billing_number: 'billingNumber',
  tracking_number: 'trackingNumber',
  shipping_carrier: 'carrier'
}

/** Checks a mapping (from a file or the default); throws one message naming every bad entry. */
export function validateMapping (value: unknown, origin: string): Mapping {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) throw new Error(`${origin}: the mapping must be a JSON object of "oomnitza_field": "source" entries`)
  const problems: string[] = []
  for (const [field, source] of Object.entries(value)) {
    if (!/^[a-z][a-z0-9_]*$/.test(field)) problems.push(`"${field}" is not an Oomnitza field name (lower case, digits, underscores)`)
    const constant = typeof source === 'object' && source !== null && typeof (source as { value?: unknown }).value === 'string'
    if (!constant && !SOURCES.includes(source as Source)) problems.push(`"${field}": source ${JSON.stringify(source)} must be one of ${SOURCES.join(', ')} or {"value": "…"}`)
  }
  if ((value as Record<string, unknown>).serial_number !== 'serial') problems.push('"serial_number" must map to "serial": assets are matched on it')
  if (problems.length > 0) throw new Error(`${origin}: ${problems.join('; ')}`)
  return value as Mapping
}

/** The default mapping with the entries of INSIGHT_MAPPING_FILE laid over it (an entry set to null removes a field). */
export function loadMapping (file: string): Mapping {
  if (file === '') return DEFAULT_MAPPING
  let parsed: unknown
  try {
    parsed = JSON.parse(readFileSync(file, 'utf8'))
  } catch (err) {
    throw new Error(`INSIGHT_MAPPING_FILE ${file}: ${(err as Error).message}`)
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) return validateMapping(parsed, `INSIGHT_MAPPING_FILE ${file}`)
  const merged: Record<string, unknown> = { ...DEFAULT_MAPPING, ...parsed }
  for (const [field, source] of Object.entries(merged)) if (source === null) delete merged[field]
  return validateMapping(merged, `INSIGHT_MAPPING_FILE ${file}`)
}

/** An Oomnitza payload for one record: a fresh object, empty values left out, dates as UTC ISO date-times. */
export function toAsset (record: SerialRecord, mapping: Mapping): Record<string, string> {
  const asset: Record<string, string> = {}
  for (const [field, source] of Object.entries(mapping)) {
    if (typeof source === 'object') {
      asset[field] = source.value
      continue
    }
    const value = record[source]
    if (value === null || value === '') continue
    asset[field] = DATE_SOURCES.has(source) ? `${value}T00:00:00Z` : value
  }
  return asset
}

export type SkipReason = 'notShipped' | 'noSerials' | 'emptySerial' | 'duplicate'

export interface Extraction {
  records: SerialRecord[]
  /** Serial entries seen, duplicates included. */
  serialsSeen: number
  skipped: Record<SkipReason, number>
  /** Deliveries with several billing entries: billing left out, as it cannot be told apart. */
  ambiguousBilling: number
}

function text (value: unknown): string {
  if (value === undefined || value === null || typeof value === 'object') return ''
  return String(value).trim()
}

function serialOf (entry: unknown): string {
  if (typeof entry === 'object' && entry !== null) return text((entry as { SerialNumber?: unknown }).SerialNumber)
  return text(entry)
}

/**
 * One record per shipped serial across all deliveries of every line. Lines, deliveries and entries without a
 * serial are counted as skipped, never turned into records; a serial seen twice (overlapping windows, kit
 * children) keeps the record with the latest ship date.
 */
export function extractSerials (orders: InsightOrder[]): Extraction {
  const bySerial = new Map<string, SerialRecord>()
  const skipped: Record<SkipReason, number> = { notShipped: 0, noSerials: 0, emptySerial: 0, duplicate: 0 }
  let serialsSeen = 0
  let ambiguousBilling = 0
  for (const order of orders) {
    const header = order.OrderHeader[0] ?? {}
    const trackingBySerial = new Map<string, Record<string, unknown>>()
    const trackingByDelivery = new Map<string, Record<string, unknown>>()
    for (const entry of order.Tracking) {
      if (text(entry.TrackingNumber) === '') continue
      for (const serial of [text(entry.SerialNumber), text(entry.ManufSerial)]) {
        if (serial !== '' && !trackingBySerial.has(serial)) trackingBySerial.set(serial, entry)
      }
      const key = `${text(entry.DeliveryNumber)}|${text(entry.DeliveryItem)}`
      if (!trackingByDelivery.has(key)) trackingByDelivery.set(key, entry)
    }
    for (const line of order.OrderLineItems) {
      if (line.Delivery.length === 0) {
        skipped.notShipped++
        continue
      }
      for (const delivery of line.Delivery) {
        if (delivery.SerialNumbers.length === 0) {
          skipped.noSerials++
          continue
        }
        const billing = delivery.BillingInformation.length === 1 ? delivery.BillingInformation[0] : undefined
        if (delivery.BillingInformation.length > 1) ambiguousBilling++
        const deliveryNumber = text(delivery.DeliveryNumber)
        const deliveryItem = text(delivery.DeliveryItem)
        for (const entry of delivery.SerialNumbers) {
          serialsSeen++
          const serial = serialOf(entry)
          if (serial === '') {
            skipped.emptySerial++
            continue
          }
          const tracking = trackingBySerial.get(serial) ?? trackingByDelivery.get(`${deliveryNumber}|${deliveryItem}`)
          const record: SerialRecord = {
            serial,
            manufacturer: text(line.Manufacturer),
            description: text(line.MaterialDescription),
            sku: text(line.ManufacturerSKU) || text(line.MaterialNumber),
            materialNumber: text(line.MaterialNumber),
            materialGroupName: text(line.MaterialGroupName),
            customerOrderNumber: text(header.CustomerOrderNumber),
            insightOrderNumber: text(header.InsightOrderNumber),
            insightOrderItem: text(line.InsightOrderItem),
            orderCreationDate: parseInsightDate(header.OrderCreationDate),
            shipDate: parseInsightDate(delivery.ActualGoodsIssueDate),
            deliveryNumber,
            deliveryItem,
            billingNumber: text(billing?.BillingNumber),
            trackingNumber: text(tracking?.TrackingNumber),
            carrier: text(tracking?.ShippingCarrier) || text(tracking?.ExpDelivCompany)
          }
          const previous = bySerial.get(serial)
          if (previous !== undefined) {
            skipped.duplicate++
            if ((previous.shipDate ?? '') > (record.shipDate ?? '')) continue
          }
          bySerial.set(serial, record)
        }
      }
    }
  }
  return { records: [...bySerial.values()], serialsSeen, skipped, ambiguousBilling }
}
